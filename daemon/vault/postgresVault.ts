import type pg from 'pg';
import { AppError } from '../errors/AppError';
import type { Logger } from '../logging/logger';
import type { TenantCredential } from '../microsoft/tenantTokenSource';
import { postgresDriver } from '../store/postgres/postgresDriver';
import type { CredentialVault } from './credentialVault';
import { rememberCredential } from './rememberCredential';
import { seal, unseal } from './sharedVaultCipher';
import { tenantCredentialSchema } from './tenantCredentialSchema';
import type { VaultKey } from './vaultKey';

/** Every write notifies this channel with the credential id, so the other daemons read that row again. */
export const VAULT_CHANNEL = 'm365_status_vault';
/**
 * A credential younger than this is never dropped as an orphan: another daemon may have registered its
 * tenant after this one listed the tenants it knows.
 */
const ORPHAN_GRACE_MS = 10 * 60_000;
const SELECT_ROWS = 'SELECT credential_id, key_id, iv, tag, ciphertext, version FROM vault_credentials';

interface CredentialRow {
  credential_id: string;
  key_id: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
  /** bigint: node-postgres gives it as text. */
  version: string;
}

/** A row as this daemon holds it: decrypted once per version, or why it cannot be. */
type Entry = { version: bigint } & ({ credential: TenantCredential } | { unreadable: 'altered' | 'other key' });

export interface PostgresVaultOptions {
  pool: pg.Pool;
  key: VaultKey;
  /** The database without its password, for messages. */
  label: string;
  logger: Logger;
  now?: () => number;
  /** How long to wait before listening again when the connection for change notices drops. */
  reconnectDelayMs?: number;
}

/**
 * Tenant credentials in the shared database, for a team's daemons: one row each in `vault_credentials`,
 * AES-256-GCM under a key every daemon is given (environment or key file) and the database never holds,
 * the tag bound to the credential's id so a row copied over another fails to decrypt.
 *
 * Reads are answered from memory, as the file vault answers them: every row is read at open and each
 * decrypted once per version. Every write notifies the other daemons (`LISTEN`/`NOTIFY`, sent on
 * commit), which read that row again and tell their listeners, so a rotation on one daemon reaches the
 * connections of all within moments. If the connection for notices drops, the vault listens again and
 * reads every row, so nothing changed meanwhile is missed.
 */
export class PostgresVault implements CredentialVault {
  readonly #pool: pg.Pool;
  readonly #key: VaultKey;
  readonly #label: string;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #reconnectDelayMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<(tenantId: string) => void>();
  #listener: pg.Client | undefined;
  #reconnect: NodeJS.Timeout | undefined;
  #closed = false;
  // Reads of rows and this daemon's own writes are applied one at a time, in order, so a row read before
  // a write never replaces what the write left.
  #applying: Promise<void> = Promise.resolve();

  private constructor(options: PostgresVaultOptions) {
    this.#pool = options.pool;
    this.#key = options.key;
    this.#label = options.label;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#reconnectDelayMs = options.reconnectDelayMs ?? 1_000;
  }

  /**
   * Checks the key against the one the vault was written with (refusing another, rather than failing
   * every tenant later), then reads every credential and starts listening for changes.
   */
  static async open(options: PostgresVaultOptions): Promise<PostgresVault> {
    await checkKey(options.pool, options.key, options.label);
    const vault = new PostgresVault(options);
    await vault.#listen();
    return vault;
  }

  has(tenantId: string): boolean {
    return this.#entries.has(tenantId);
  }

  tenantIds(): string[] {
    return [...this.#entries.keys()];
  }

  get(tenantId: string): TenantCredential {
    const entry = this.#entries.get(tenantId);
    if (!entry) {
      throw AppError.notFound('CREDENTIALS_MISSING', 'No credentials are stored for this tenant. Enter them again.', { tenantId });
    }
    if ('unreadable' in entry) throw this.#unreadable(tenantId, entry.unreadable);
    rememberCredential(entry.credential);
    return entry.credential;
  }

  async put(tenantId: string, credential: TenantCredential): Promise<void> {
    const parsed = tenantCredentialSchema.parse(credential);
    const sealed = seal(this.#key.bytes, tenantId, parsed);
    rememberCredential(parsed);
    const version = await this.#transaction(async (client) => {
      await this.#checkKeyUnchanged(client);
      const { rows } = await client.query<{ version: string }>(
        `INSERT INTO vault_credentials (credential_id, key_id, iv, tag, ciphertext, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (credential_id) DO UPDATE SET key_id = EXCLUDED.key_id, iv = EXCLUDED.iv, tag = EXCLUDED.tag,
           ciphertext = EXCLUDED.ciphertext, updated_at = EXCLUDED.updated_at, version = nextval('vault_credential_versions')
         RETURNING version`,
        [tenantId, this.#key.id, sealed.iv, sealed.tag, sealed.ciphertext, new Date(this.#now())],
      );
      await client.query('SELECT pg_notify($1, $2)', [VAULT_CHANNEL, tenantId]);
      return BigInt(requireRow(rows).version);
    });
    await this.#apply(() => {
      const current = this.#entries.get(tenantId);
      if (!current || current.version < version) this.#entries.set(tenantId, { version, credential: parsed });
    });
  }

  async rotate(tenantId: string, credential: TenantCredential): Promise<void> {
    if (!this.has(tenantId)) {
      throw AppError.notFound('CREDENTIALS_MISSING', 'This tenant has no stored credentials to rotate.', { tenantId });
    }
    await this.put(tenantId, credential);
  }

  async remove(tenantId: string): Promise<boolean> {
    const removed = await this.#transaction(async (client) => {
      const { rows } = await client.query<{ credential_id: string; version: string }>(
        'DELETE FROM vault_credentials WHERE credential_id = $1 RETURNING credential_id, version',
        [tenantId],
      );
      if (rows.length > 0) await client.query('SELECT pg_notify($1, $2)', [VAULT_CHANNEL, tenantId]);
      return rows;
    });
    await this.#forgetRemoved(removed);
    return removed.length > 0;
  }

  async retainOnly(tenantIds: Iterable<string>): Promise<string[]> {
    const keep = [...tenantIds];
    const removed = await this.#transaction(async (client) => {
      const { rows } = await client.query<{ credential_id: string; version: string }>(
        'DELETE FROM vault_credentials WHERE NOT (credential_id = ANY($1::text[])) AND updated_at < $2 RETURNING credential_id, version',
        [keep, new Date(this.#now() - ORPHAN_GRACE_MS)],
      );
      for (const row of rows) await client.query('SELECT pg_notify($1, $2)', [VAULT_CHANNEL, row.credential_id]);
      return rows;
    });
    await this.#forgetRemoved(removed);
    return removed.map((row) => row.credential_id);
  }

  onCredentialChanged(listener: (tenantId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnect);
    const listener = this.#listener;
    this.#listener = undefined;
    await this.#applying;
    await listener?.end().catch(() => undefined);
  }

  async #listen(): Promise<void> {
    // Named, so that a DBA looking at pg_stat_activity sees what holds this connection open.
    const { Client } = await postgresDriver();
    const client = new Client({ ...this.#pool.options, application_name: 'm365-status vault notices' });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, undefined));
    client.on('notification', (notice) => {
      if (notice.channel !== VAULT_CHANNEL || notice.payload === undefined) return;
      const tenantId = notice.payload;
      void this.#apply(() => this.#reloadOne(tenantId)).catch((error: unknown) => this.#lost(client, error));
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${VAULT_CHANNEL}`);
      if (this.#closed) throw new Error('the vault was closed');
      this.#listener = client;
      // Listening first, reading second: a change committed in between is both read here and noticed.
      await this.#apply(() => this.#reloadAll());
    } catch (error) {
      if (this.#listener === client) this.#listener = undefined;
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  // Notices sent while nobody listened are lost: listen again, and read every row again.
  #lost(client: pg.Client, error: unknown): void {
    if (this.#listener !== client || this.#closed) return;
    this.#listener = undefined;
    void client.end().catch(() => undefined);
    this.#logger.warn('lost the shared vault change notices; listening again', {
      database: this.#label,
      ...(error instanceof Error ? { error: error.message } : {}),
    });
    this.#scheduleListen();
  }

  #scheduleListen(): void {
    if (this.#closed) return;
    this.#reconnect = setTimeout(() => {
      this.#listen().then(
        () => this.#logger.info('listening to shared vault changes again', { database: this.#label }),
        (error: unknown) => {
          this.#logger.warn('cannot listen to shared vault changes yet', { database: this.#label, error: (error as Error).message });
          this.#scheduleListen();
        },
      );
    }, this.#reconnectDelayMs);
    this.#reconnect.unref();
  }

  #apply(step: () => void | Promise<void>): Promise<void> {
    const next = this.#applying.catch(() => undefined).then(step);
    this.#applying = next.catch(() => undefined);
    return next;
  }

  async #reloadOne(tenantId: string): Promise<void> {
    const { rows } = await this.#pool.query<CredentialRow>(`${SELECT_ROWS} WHERE credential_id = $1`, [tenantId]);
    const row = rows[0];
    if (row) this.#take(row);
    else this.#drop(tenantId);
  }

  async #reloadAll(): Promise<void> {
    const { rows } = await this.#pool.query<CredentialRow>(SELECT_ROWS);
    const present = new Set<string>();
    for (const row of rows) {
      present.add(row.credential_id);
      this.#take(row);
    }
    for (const tenantId of [...this.#entries.keys()]) if (!present.has(tenantId)) this.#drop(tenantId);
  }

  // A row read from the database is the newest state (reads are applied in order): take it unless this
  // version is already held.
  #take(row: CredentialRow): void {
    const version = BigInt(row.version);
    const current = this.#entries.get(row.credential_id);
    if (current?.version === version) return;
    const entry = this.#decrypt(row, version);
    if ('unreadable' in entry) {
      this.#logger.warn('a credential in the shared vault cannot be decrypted', { tenantId: row.credential_id, reason: entry.unreadable });
    }
    this.#entries.set(row.credential_id, entry);
    this.#changed(row.credential_id);
  }

  #drop(tenantId: string): void {
    if (this.#entries.delete(tenantId)) this.#changed(tenantId);
  }

  #forgetRemoved(rows: ReadonlyArray<{ credential_id: string; version: string }>): Promise<void> {
    return this.#apply(() => {
      for (const row of rows) {
        const current = this.#entries.get(row.credential_id);
        if (current && current.version <= BigInt(row.version)) this.#entries.delete(row.credential_id);
      }
    });
  }

  #changed(tenantId: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(tenantId);
      } catch (error) {
        this.#logger.error('a credential change listener failed', { tenantId, error: (error as Error).message });
      }
    }
  }

  #decrypt(row: CredentialRow, version: bigint): Entry {
    if (row.key_id !== this.#key.id) return { version, unreadable: 'other key' };
    try {
      return { version, credential: unseal(this.#key.bytes, row.credential_id, row) };
    } catch {
      return { version, unreadable: 'altered' };
    }
  }

  #unreadable(tenantId: string, reason: 'altered' | 'other key'): AppError {
    return new AppError({
      status: 500,
      code: 'VAULT_UNREADABLE',
      message:
        reason === 'other key'
          ? "This tenant's stored credentials were encrypted with another vault key than this daemon's. Give every daemon the same key, or enter the credentials again."
          : "This tenant's stored credentials cannot be decrypted: the row was altered or moved in the shared database. Enter the credentials again.",
      details: { tenantId },
    });
  }

  // Under the key row's share lock: a key rotation (which takes it exclusively) cannot interleave, and a
  // daemon still holding the old key cannot write a row the others cannot read.
  async #checkKeyUnchanged(client: pg.PoolClient): Promise<void> {
    const { rows } = await client.query<{ key_id: string }>('SELECT key_id FROM vault_key FOR SHARE');
    const stored = rows[0]?.key_id;
    if (stored !== this.#key.id) {
      throw new AppError({
        status: 500,
        code: 'VAULT_KEY_MISMATCH',
        message: `The shared vault's key was changed after this daemon started (key id ${stored ?? 'none'}, this daemon has ${this.#key.id}): restart this daemon with the new key.`,
        details: { database: this.#label },
      });
    }
  }

  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

/**
 * The first daemon to open an empty vault records its key's check value; every later one must hold the
 * same key. Refusing here names the problem once, where a wrong key would otherwise fail every tenant.
 */
async function checkKey(pool: pg.Pool, key: VaultKey, label: string): Promise<void> {
  await pool.query('INSERT INTO vault_key (key_id) VALUES ($1) ON CONFLICT (only_row) DO NOTHING', [key.id]);
  const { rows } = await pool.query<{ key_id: string }>('SELECT key_id FROM vault_key');
  const stored = requireRow(rows).key_id;
  if (stored !== key.id) {
    throw new AppError({
      status: 500,
      code: 'VAULT_KEY_MISMATCH',
      message:
        `The vault key from ${key.source} (key id ${key.id}) is not the key the shared vault in ${label} was written with (key id ${stored}). ` +
        'Give every daemon the same vault key: the one the other daemons of this deployment use.',
      details: { database: label, keyId: key.id, vaultKeyId: stored },
    });
  }
}

function requireRow<T>(rows: readonly T[]): T {
  const row = rows[0];
  if (row === undefined) throw new Error('the shared database answered no row where one was expected');
  return row;
}
