import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../errors/AppError';
import { writeFileAtomic } from '../files/writeFileAtomic';
import type { TenantCredential } from '../microsoft/tenantTokenSource';
import type { CredentialVault } from './credentialVault';
import { rememberCredential } from './rememberCredential';
import { tenantCredentialSchema } from './tenantCredentialSchema';

export const VAULT_FILE_NAME = 'vault.json';
export const VAULT_KEY_FILE_NAME = 'vault.key';
const VAULT_SCHEMA_VERSION = 1;
const KEY_BYTES = 32;
const IV_BYTES = 12;


const entrySchema = z.object({
  iv: z.base64(),
  tag: z.base64(),
  ciphertext: z.base64(),
  updatedAt: z.number().int().nonnegative(),
});
type VaultEntry = z.infer<typeof entrySchema>;

const vaultFileSchema = z.object({
  schemaVersion: z.literal(VAULT_SCHEMA_VERSION),
  entries: z.record(z.string(), entrySchema),
});
type VaultFile = z.infer<typeof vaultFileSchema>;

/**
 * Tenant credentials, kept apart from the store: `vault.json` holds each credential encrypted with
 * AES-256-GCM under a random 256-bit key in `vault.key`; both files are 0600.
 *
 * This keeps secrets out of the main store, its backups and anything that reads it (logs, support
 * bundles, a synced folder holding only store.json), and detects tampering (GCM tag bound to the
 * tenant id). It does not protect against anyone who can read files as this user: the key sits next to
 * the vault. That would need an OS keychain.
 *
 * Opened after the store, whose lock on the data directory also guards these two files.
 */
export class Vault implements CredentialVault {
  readonly #path: string;
  readonly #key: Buffer;
  readonly #data: VaultFile;
  readonly #now: () => number;
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string, key: Buffer, data: VaultFile, now: () => number) {
    this.#path = path;
    this.#key = key;
    this.#data = data;
    this.#now = now;
  }

  static async open(dataDir: string, options: { now?: () => number } = {}): Promise<Vault> {
    const path = join(dataDir, VAULT_FILE_NAME);
    const keyPath = join(dataDir, VAULT_KEY_FILE_NAME);
    const data = await readVaultFile(path);
    let key = await readKey(keyPath);
    if (!key) {
      if (Object.keys(data.entries).length > 0) {
        throw new AppError({
          status: 500,
          code: 'VAULT_KEY_MISSING',
          message: `${keyPath} is missing, so the credentials in ${path} cannot be read. Restore the key file, or remove ${path} and enter every tenant's credentials again.`,
          details: { file: keyPath },
        });
      }
      key = randomBytes(KEY_BYTES);
      await writeFileAtomic(keyPath, key);
    }
    return new Vault(path, key, data, options.now ?? Date.now);
  }

  has(tenantId: string): boolean {
    return Object.hasOwn(this.#data.entries, tenantId);
  }

  tenantIds(): string[] {
    return Object.keys(this.#data.entries);
  }

  /** The credential, decrypted; a tenant without one is an error the operator can fix. */
  get(tenantId: string): TenantCredential {
    const entry = this.#data.entries[tenantId];
    if (!entry) {
      throw AppError.notFound('CREDENTIALS_MISSING', 'No credentials are stored for this tenant. Enter them again.', { tenantId });
    }
    const credential = this.#decrypt(tenantId, entry);
    rememberCredential(credential);
    return credential;
  }

  /** Stores a tenant's credential, replacing any earlier one; resolves once it is on disk. */
  async put(tenantId: string, credential: TenantCredential): Promise<void> {
    const parsed = tenantCredentialSchema.parse(credential);
    this.#data.entries[tenantId] = this.#encrypt(tenantId, parsed);
    rememberCredential(parsed);
    await this.#save();
  }

  /** Replaces the credential of a tenant that has one. */
  async rotate(tenantId: string, credential: TenantCredential): Promise<void> {
    if (!this.has(tenantId)) {
      throw AppError.notFound('CREDENTIALS_MISSING', 'This tenant has no stored credentials to rotate.', { tenantId });
    }
    await this.put(tenantId, credential);
  }

  /** Removes a tenant's credential; false if there was none. */
  async remove(tenantId: string): Promise<boolean> {
    if (!this.has(tenantId)) return false;
    delete this.#data.entries[tenantId];
    await this.#save();
    return true;
  }

  /**
   * Drops credentials of tenants the store no longer knows. Registering stores the credential first and
   * the tenant second, so a crash in between leaves an orphan here rather than a tenant without one.
   */
  async retainOnly(tenantIds: Iterable<string>): Promise<string[]> {
    const keep = new Set(tenantIds);
    const dropped = Object.keys(this.#data.entries).filter((id) => !keep.has(id));
    for (const id of dropped) delete this.#data.entries[id];
    if (dropped.length > 0) await this.#save();
    return dropped;
  }

  // Only this process writes the data directory (its lock keeps other daemons out): nobody else changes a credential.
  onCredentialChanged(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    await this.#writing.catch(() => undefined);
  }

  #encrypt(tenantId: string, credential: TenantCredential): VaultEntry {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(associatedData(tenantId));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(credential), 'utf8'), cipher.final()]);
    return {
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      updatedAt: this.#now(),
    };
  }

  #decrypt(tenantId: string, entry: VaultEntry): TenantCredential {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(entry.iv, 'base64'));
      decipher.setAAD(associatedData(tenantId));
      decipher.setAuthTag(Buffer.from(entry.tag, 'base64'));
      const plain = Buffer.concat([decipher.update(Buffer.from(entry.ciphertext, 'base64')), decipher.final()]);
      return tenantCredentialSchema.parse(JSON.parse(plain.toString('utf8')));
    } catch (error) {
      throw new AppError({
        status: 500,
        code: 'VAULT_UNREADABLE',
        message:
          "This tenant's stored credentials cannot be decrypted: the vault key does not match the vault, or the vault was altered. Enter the credentials again.",
        details: { tenantId },
        cause: error,
      });
    }
  }

  // Writes are chained so that each one carries every change made before it.
  #save(): Promise<void> {
    const write = this.#writing.catch(() => undefined).then(() => writeFileAtomic(this.#path, JSON.stringify(this.#data, null, 1)));
    this.#writing = write;
    return write;
  }
}

// Binds each ciphertext to its tenant: one tenant's entry copied over another's fails to decrypt.
function associatedData(tenantId: string): Buffer {
  return Buffer.from(`m365-status vault v${VAULT_SCHEMA_VERSION} tenant ${tenantId}`, 'utf8');
}

async function readVaultFile(path: string): Promise<VaultFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { schemaVersion: VAULT_SCHEMA_VERSION, entries: entryTable([]) };
    throw error;
  }
  await refuseIfExposed(path);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AppError({ status: 500, code: 'VAULT_UNREADABLE', message: `${path} is not valid JSON.`, details: { file: path }, cause: error });
  }
  const version = (raw as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'number' && version > VAULT_SCHEMA_VERSION) {
    throw new AppError({
      status: 500,
      code: 'STORE_SCHEMA_TOO_NEW',
      message: `${path} was written by a newer m365-status (vault schema ${version}; this one understands up to ${VAULT_SCHEMA_VERSION}). Upgrade m365-status.`,
      details: { file: path, schemaVersion: version },
    });
  }
  const parsed = vaultFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AppError({ status: 500, code: 'VAULT_UNREADABLE', message: `${path} does not have the expected shape.`, details: { file: path } });
  }
  // Read from the raw JSON's own keys: zod's record would turn a `__proto__` entry into a prototype.
  const rawEntries = (raw as { entries: Record<string, unknown> }).entries;
  return { ...parsed.data, entries: entryTable(Object.keys(rawEntries).map((id) => [id, entrySchema.parse(rawEntries[id])])) };
}

/**
 * Entries by tenant id without a prototype, so an id named like a built-in (`constructor`, `__proto__`)
 * is an entry or nothing, never an inherited function or a changed prototype.
 */
function entryTable(entries: Array<[string, VaultEntry]>): Record<string, VaultEntry> {
  const table = Object.create(null) as Record<string, VaultEntry>;
  for (const [id, entry] of entries) table[id] = entry;
  return table;
}

async function readKey(path: string): Promise<Buffer | undefined> {
  let key: Buffer;
  try {
    key = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  await refuseIfExposed(path);
  if (key.length !== KEY_BYTES) {
    throw new AppError({
      status: 500,
      code: 'VAULT_KEY_INVALID',
      message: `${path} is not a vault key (expected ${KEY_BYTES} bytes, found ${key.length}).`,
      details: { file: path },
    });
  }
  return key;
}

// Like ssh with a private key: refuse rather than keep using a file others can read.
async function refuseIfExposed(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new AppError({
      status: 500,
      code: 'VAULT_FILE_EXPOSED',
      message: `${path} can be read by other users (mode ${mode.toString(8)}). Run: chmod 600 "${path}", then start the daemon again.`,
      details: { file: path },
    });
  }
}
