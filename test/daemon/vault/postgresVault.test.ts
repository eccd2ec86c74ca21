import assert from 'node:assert/strict';
import pg from 'pg';
import type { AppError } from '../../../daemon/errors/AppError';
import { createLogger } from '../../../daemon/logging/logger';
import { openSharedDatabase, type SharedDatabase } from '../../../daemon/store/postgres/sharedDatabase';
import { PostgresVault, type PostgresVaultOptions } from '../../../daemon/vault/postgresVault';
import { newVaultKeyText, parseVaultKey, type VaultKey } from '../../../daemon/vault/vaultKey';
import { startPostgres, type PostgresServer } from '../../support/postgresServer';

const SECRET = 'Zk8Q~s3cr3t-Value.For_Contoso-0001';
const OTHER_SECRET = 'Qw7R~an0ther-Secret.For_Fabrikam-0002';
const PRIVATE_KEY_BODY = 'MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDtestkeymaterial';
const PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----\n${PRIVATE_KEY_BODY}\n-----END PRIVATE KEY-----\n`;
const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIDazCCAlOgAwIBAgIUtestcert\n-----END CERTIFICATE-----\n';

describe('shared vault (PostgreSQL)', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let database: SharedDatabase;
  let key: VaultKey;
  let lines: string[];
  const opened: PostgresVault[] = [];

  const logger = () => createLogger({ write: (line) => lines.push(line) });
  const open = async (options: Partial<PostgresVaultOptions> = {}): Promise<PostgresVault> => {
    const vault = await PostgresVault.open({ pool: database.pool, key, label: database.label, logger: logger(), ...options });
    opened.push(vault);
    return vault;
  };

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    lines = [];
    database = await openSharedDatabase(await server.createDatabase(), { logger: logger() });
    key = parseVaultKey(newVaultKeyText(), 'the test key');
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((vault) => vault.close()));
    await database.close();
  });

  it('gives back a stored secret and certificate to another vault opened on the same database', async () => {
    const vault = await open();
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET, expiresAt: 1_900_000_000_000 });
    await vault.put('t2', { kind: 'certificate', certificatePem: CERTIFICATE, privateKeyPem: PRIVATE_KEY });
    assert.deepEqual(vault.get('t1'), { kind: 'secret', clientSecret: SECRET, expiresAt: 1_900_000_000_000 });
    const other = await open();
    assert.deepEqual(other.get('t1'), { kind: 'secret', clientSecret: SECRET, expiresAt: 1_900_000_000_000 });
    assert.deepEqual(other.get('t2'), { kind: 'certificate', certificatePem: CERTIFICATE, privateKeyPem: PRIVATE_KEY });
    assert.deepEqual(other.tenantIds().sort(), ['t1', 't2']);
    const { rows } = await database.pool.query<{ credential_id: string; key_id: string }>('SELECT credential_id, key_id FROM vault_credentials ORDER BY 1');
    assert.deepEqual(rows, [
      { credential_id: 't1', key_id: key.id },
      { credential_id: 't2', key_id: key.id },
    ]);
  });

  it('rotates a credential, refuses to rotate one that does not exist, and removes one', async () => {
    const vault = await open();
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
    await vault.rotate('t1', { kind: 'certificate', certificatePem: CERTIFICATE, privateKeyPem: PRIVATE_KEY });
    assert.equal((await open()).get('t1').kind, 'certificate');
    await assert.rejects(vault.rotate('t9', { kind: 'secret', clientSecret: SECRET }), (error: AppError) => error.code === 'CREDENTIALS_MISSING');
    assert.equal(await vault.remove('t1'), true);
    assert.equal(await vault.remove('t1'), false);
    assert.throws(() => vault.get('t1'), (error: AppError) => error.code === 'CREDENTIALS_MISSING');
    assert.equal((await database.pool.query('SELECT 1 FROM vault_credentials')).rowCount, 0);
  });

  it('holds no plaintext in any column of any table: the database sees only ciphertext and the key check value', async () => {
    const vault = await open();
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
    await vault.put('t2', { kind: 'certificate', certificatePem: CERTIFICATE, privateKeyPem: PRIVATE_KEY });
    const forbidden: Array<[string, Buffer]> = [
      ['the secret', Buffer.from(SECRET)],
      ['the secret in base64', Buffer.from(Buffer.from(SECRET).toString('base64'))],
      ['the private key', Buffer.from(PRIVATE_KEY_BODY)],
      ['a PEM header', Buffer.from('PRIVATE KEY')],
      ['the vault key', key.bytes],
      ['the vault key in base64', Buffer.from(key.bytes.toString('base64'))],
      ['the vault key in hex', Buffer.from(key.bytes.toString('hex'))],
    ];
    const tables = await database.pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
    assert.ok(tables.rows.some((table) => table.table_name === 'vault_credentials'));
    let values = 0;
    for (const { table_name } of tables.rows) {
      const { rows } = await database.pool.query<Record<string, unknown>>(`SELECT * FROM ${pg.escapeIdentifier(table_name)}`);
      for (const row of rows) {
        for (const [column, value] of Object.entries(row)) {
          const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
          values++;
          for (const [what, needle] of forbidden) assert.equal(bytes.indexOf(needle), -1, `${table_name}.${column} holds ${what}`);
          // bytea shown as text (as a dump or a DBA's psql would) must not give it away either.
          if (Buffer.isBuffer(value)) for (const [what, needle] of forbidden) assert.ok(!value.toString('hex').includes(needle.toString('hex')), `${table_name}.${column} holds ${what} (hex)`);
        }
      }
    }
    assert.ok(values > 10, `read ${values} values`);
  });

  it('detects two rows whose ciphertexts were swapped, without revealing either secret, and a new put repairs it', async () => {
    const vault = await open();
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
    await vault.put('t2', { kind: 'secret', clientSecret: OTHER_SECRET });
    await database.pool.query(`
      UPDATE vault_credentials AS target SET iv = source.iv, tag = source.tag, ciphertext = source.ciphertext
      FROM vault_credentials AS source
      WHERE (target.credential_id, source.credential_id) IN (('t1', 't2'), ('t2', 't1'))`);
    const reader = await open();
    for (const tenantId of ['t1', 't2']) {
      assert.equal(reader.has(tenantId), true);
      assert.throws(() => reader.get(tenantId), (error: AppError) => {
        assert.equal(error.code, 'VAULT_UNREADABLE');
        assert.match(error.message, /altered or moved/);
        assert.ok(!error.message.includes(SECRET) && !error.message.includes(OTHER_SECRET));
        return true;
      });
    }
    assert.ok(lines.some((line) => line.includes('cannot be decrypted') && line.includes('"t1"')), 'the unreadable row is logged');
    assert.ok(!lines.join('\n').includes(SECRET));
    await reader.put('t1', { kind: 'secret', clientSecret: 'fresh-secret-value' });
    assert.deepEqual((await open()).get('t1'), { kind: 'secret', clientSecret: 'fresh-secret-value' });
  });

  it('refuses at start a key other than the one the vault was written with, naming both key ids and never the key', async () => {
    const vault = await open();
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
    const wrongKey = parseVaultKey(newVaultKeyText(), '/etc/m365-status/vault.key');
    await assert.rejects(open({ key: wrongKey }), (error: AppError) => {
      assert.equal(error.code, 'VAULT_KEY_MISMATCH');
      assert.match(error.message, new RegExp(`from /etc/m365-status/vault.key \\(key id ${wrongKey.id}\\) is not the key`));
      assert.ok(error.message.includes(key.id));
      assert.ok(error.message.includes(database.label));
      for (const secretKey of [wrongKey, key]) assert.ok(!error.message.includes(secretKey.bytes.toString('base64')));
      return true;
    });
  });

  it('records the first key even before any credential is stored, so a second daemon with another key is refused', async () => {
    await open();
    await assert.rejects(open({ key: parseVaultKey(newVaultKeyText(), 'M365_STATUS_VAULT_KEY') }), (error: AppError) => error.code === 'VAULT_KEY_MISMATCH');
    const { rows } = await database.pool.query<{ key_id: string }>('SELECT key_id FROM vault_key');
    assert.deepEqual(rows, [{ key_id: key.id }]);
  });

  it('shows each vault the credentials another vault on the same database adds, rotates and removes', async () => {
    const writer = await open();
    const reader = await open();
    const changes: string[] = [];
    reader.onCredentialChanged((tenantId) => changes.push(tenantId));

    await writer.put('t1', { kind: 'secret', clientSecret: SECRET });
    await until(() => reader.has('t1'));
    assert.deepEqual(reader.get('t1'), { kind: 'secret', clientSecret: SECRET });

    await writer.rotate('t1', { kind: 'secret', clientSecret: OTHER_SECRET });
    await until(() => changes.length >= 2);
    assert.deepEqual(reader.get('t1'), { kind: 'secret', clientSecret: OTHER_SECRET });

    await writer.remove('t1');
    await until(() => !reader.has('t1'));
    assert.deepEqual(changes, ['t1', 't1', 't1']);
  });

  it('reads every row again after losing the connection for change notices, so a change made meanwhile is not missed', async () => {
    const writer = await open();
    // Long enough that the changes below are made while it is not listening.
    const reader = await open({ reconnectDelayMs: 1_000 });
    await writer.put('t1', { kind: 'secret', clientSecret: SECRET });
    await until(() => reader.has('t1'));
    await database.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'm365-status vault notices'");
    await until(() => lines.filter((line) => line.includes('lost the shared vault change notices')).length >= 2);

    await writer.rotate('t1', { kind: 'secret', clientSecret: OTHER_SECRET });
    await writer.put('t2', { kind: 'secret', clientSecret: SECRET });
    await until(() => reader.has('t2'));
    assert.deepEqual(reader.get('t1'), { kind: 'secret', clientSecret: OTHER_SECRET });
    assert.ok(lines.some((line) => line.includes('listening to shared vault changes again')));

    // Listening again, it sees later changes as they happen.
    await writer.remove('t2');
    await until(() => !reader.has('t2'));
  });

  it('drops credentials of tenants the store no longer knows, but not ones written within the last ten minutes', async () => {
    let now = Date.UTC(2026, 10, 30, 3, 0);
    const vault = await open({ now: () => now });
    await vault.put('kept', { kind: 'secret', clientSecret: SECRET });
    await vault.put('orphan', { kind: 'secret', clientSecret: OTHER_SECRET });
    // Another daemon may have registered this tenant after the store was listed.
    assert.deepEqual(await vault.retainOnly(['kept']), []);
    now += 11 * 60_000;
    assert.deepEqual(await vault.retainOnly(['kept']), ['orphan']);
    assert.deepEqual(vault.tenantIds(), ['kept']);
    assert.deepEqual((await open()).tenantIds(), ['kept']);
  });

  it('refuses a write from a daemon whose key is no longer the vault key', async () => {
    const vault = await open();
    await database.pool.query("UPDATE vault_key SET key_id = 'ffffffffffffffff'");
    await assert.rejects(vault.put('t1', { kind: 'secret', clientSecret: SECRET }), (error: AppError) => {
      assert.equal(error.code, 'VAULT_KEY_MISMATCH');
      assert.match(error.message, /restart this daemon with the new key/);
      return true;
    });
    assert.equal((await database.pool.query('SELECT 1 FROM vault_credentials')).rowCount, 0);
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the vault to catch up');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
