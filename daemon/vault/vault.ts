import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { AppError } from '../errors/AppError';
import { writeFileAtomic } from '../files/writeFileAtomic';
import type { TenantCredential } from '../microsoft/tenantTokenSource';
import type { CredentialVault } from './credentialVault';
import { rememberCredential } from './rememberCredential';
import { tenantCredentialSchema } from './tenantCredentialSchema';
import { vaultEntrySchema as entrySchema, type VaultEntry } from './vaultEntry';
import { readVaultJournal, replayVaultJournal, VAULT_JOURNAL_FILE_NAME, VaultJournal, type VaultJournalRecord } from './vaultJournal';

export const VAULT_FILE_NAME = 'vault.json';
export const VAULT_KEY_FILE_NAME = 'vault.key';
const VAULT_SCHEMA_VERSION = 1;
const KEY_BYTES = 32;
const IV_BYTES = 12;
/** Journal records after which `vault.json` is written whole again, so the journal stays short to read. */
const COMPACT_AFTER_RECORDS = 1000;

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
 * A change is appended to `vault.journal` (see `VaultJournal`) rather than rewriting `vault.json`, so
 * storing a credential costs one small append whatever the number of tenants; `vault.json` is written
 * whole, with the journal folded in, on open, on close and every thousand changes. A `vault.json` without
 * a journal, as older versions wrote it, is read as it is.
 *
 * Opened after the store, whose lock on the data directory also guards these files.
 */
export class Vault implements CredentialVault {
  readonly #path: string;
  readonly #key: Buffer;
  readonly #data: VaultFile;
  readonly #now: () => number;
  readonly #journal: VaultJournal;
  // After an append that failed part-way the journal may end in a torn line: the next change rewrites
  // vault.json whole and empties the journal instead of appending after it.
  #journalSound = true;
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string, key: Buffer, data: VaultFile, journal: VaultJournal, now: () => number) {
    this.#path = path;
    this.#key = key;
    this.#data = data;
    this.#journal = journal;
    this.#now = now;
  }

  static async open(dataDir: string, options: { now?: () => number } = {}): Promise<Vault> {
    const path = join(dataDir, VAULT_FILE_NAME);
    const keyPath = join(dataDir, VAULT_KEY_FILE_NAME);
    const journalPath = join(dataDir, VAULT_JOURNAL_FILE_NAME);
    const data = await readVaultFile(path);
    const journaled = await readVaultJournal(journalPath);
    if (!journaled.empty) await refuseIfExposed(journalPath);
    replayVaultJournal(data.entries, journaled.records);
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
    const journal = await VaultJournal.open(journalPath, journaled.records.length);
    const vault = new Vault(path, key, data, journal, options.now ?? Date.now);
    // Folded in at once, so a crash-torn last line is gone before anything is appended after it.
    if (!journaled.empty) await vault.#compact();
    return vault;
  }

  /**
   * The tenant ids `vault.json` and its journal hold on disk, read without opening the vault (which
   * would write): what is there for another process to look at while the daemon runs.
   */
  static async storedTenantIds(dataDir: string): Promise<string[]> {
    const data = await readVaultFile(join(dataDir, VAULT_FILE_NAME));
    replayVaultJournal(data.entries, (await readVaultJournal(join(dataDir, VAULT_JOURNAL_FILE_NAME))).records);
    return Object.keys(data.entries);
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
    const entry = this.#encrypt(tenantId, parsed);
    this.#data.entries[tenantId] = entry;
    rememberCredential(parsed);
    await this.#record([{ put: tenantId, entry }]);
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
    await this.#record([{ remove: tenantId }]);
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
    await this.#record(dropped.map((id) => ({ remove: id })));
    return dropped;
  }

  // Only this process writes the data directory (its lock keeps other daemons out): nobody else changes a credential.
  onCredentialChanged(): () => void {
    return () => undefined;
  }

  /** Waits for the last write, and leaves everything in `vault.json` with the journal empty. */
  async close(): Promise<void> {
    await this.#writing.catch(() => undefined);
    if (this.#journal.records > 0 || !this.#journalSound) await this.#compact().catch(() => undefined);
    await this.#journal.close();
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

  // Writes are chained so that they reach the disk in the order the changes were made.
  #record(records: readonly VaultJournalRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const write = this.#writing.catch(() => undefined).then(() => (this.#journalSound ? this.#append(records) : this.#compact()));
    this.#writing = write;
    if (this.#journal.records + records.length >= COMPACT_AFTER_RECORDS) {
      // After the change is durable and without the caller waiting: one registration does not pay for it.
      const compaction = write.catch(() => undefined).then(() => this.#compact());
      compaction.catch(() => undefined);
      this.#writing = compaction;
    }
    return write;
  }

  async #append(records: readonly VaultJournalRecord[]): Promise<void> {
    try {
      await this.#journal.append(records);
    } catch (error) {
      this.#journalSound = false;
      throw error;
    }
  }

  // vault.json is durable with every change before the journal is emptied: a crash in between replays
  // changes vault.json already holds, which comes to the same.
  async #compact(): Promise<void> {
    await writeFileAtomic(this.#path, JSON.stringify(this.#data, null, 1));
    await this.#journal.clear();
    this.#journalSound = true;
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
