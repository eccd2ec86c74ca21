import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppError } from '../../../daemon/errors/AppError';
import { createLogger } from '../../../daemon/logging/logger';
import { openSharedDatabase, type SharedDatabase } from '../../../daemon/store/postgres/sharedDatabase';
import { PostgresVault } from '../../../daemon/vault/postgresVault';
import { rotateVaultKey } from '../../../daemon/vault/rotateVaultKey';
import { runVaultCommand } from '../../../daemon/vault/vaultCommand';
import { loadVaultKey, newVaultKeyText, parseVaultKey, VAULT_KEY_ENV, type VaultKey } from '../../../daemon/vault/vaultKey';
import { spawnTypeScript } from '../../support/childProcess';
import { startPostgres, type PostgresServer } from '../../support/postgresServer';
import { tempDataDir } from '../../support/tempDataDir';

const SECRET = 'Zk8Q~s3cr3t-Value.For_Contoso-0001';
const OTHER_SECRET = 'Qw7R~an0ther-Secret.For_Fabrikam-0002';

interface Row {
  credential_id: string;
  key_id: string;
  iv: Buffer;
  ciphertext: Buffer;
  version: string;
}

describe('rotating the shared vault key', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let url: string;
  let database: SharedDatabase;
  let oldKey: VaultKey;
  let newKey: VaultKey;
  const opened: PostgresVault[] = [];
  const logger = createLogger({ write: () => undefined });
  const open = async (key: VaultKey): Promise<PostgresVault> => {
    const vault = await PostgresVault.open({ pool: database.pool, key, label: database.label, logger });
    opened.push(vault);
    return vault;
  };
  const rows = async (): Promise<Row[]> =>
    (await database.pool.query<Row>('SELECT credential_id, key_id, iv, ciphertext, version FROM vault_credentials ORDER BY credential_id')).rows;

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    url = await server.createDatabase();
    database = await openSharedDatabase(url, { logger });
    oldKey = parseVaultKey(newVaultKeyText(), 'old.key');
    newKey = parseVaultKey(newVaultKeyText(), 'new.key');
    const vault = await open(oldKey);
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
    await vault.put('t2', { kind: 'secret', clientSecret: OTHER_SECRET });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((vault) => vault.close()));
    await database.close();
  });

  it('re-encrypts every credential under the new key, after which only the new key opens the vault', async () => {
    const before = await rows();
    const rotation = await rotateVaultKey(database.pool, oldKey, newKey);
    assert.deepEqual(rotation, { credentials: 2, previousKeyId: oldKey.id, keyId: newKey.id });
    const after = await rows();
    assert.deepEqual(after.map((row) => row.key_id), [newKey.id, newKey.id]);
    after.forEach((row, index) => {
      assert.ok(!row.ciphertext.equals(before[index]!.ciphertext), `${row.credential_id} was re-encrypted`);
      assert.ok(!row.iv.equals(before[index]!.iv), `${row.credential_id} has a fresh iv`);
      assert.equal(row.version, before[index]!.version);
    });
    const reopened = await open(newKey);
    assert.deepEqual(reopened.get('t1'), { kind: 'secret', clientSecret: SECRET });
    assert.deepEqual(reopened.get('t2'), { kind: 'secret', clientSecret: OTHER_SECRET });
    await assert.rejects(open(oldKey), (error: AppError) => error.code === 'VAULT_KEY_MISMATCH');
  });

  it('lets a daemon still running with the old key keep its credentials but refuses its writes until restarted', async () => {
    const running = opened[0]!;
    await rotateVaultKey(database.pool, oldKey, newKey);
    assert.deepEqual(running.get('t1'), { kind: 'secret', clientSecret: SECRET });
    await assert.rejects(running.put('t3', { kind: 'secret', clientSecret: SECRET }), (error: AppError) => {
      assert.equal(error.code, 'VAULT_KEY_MISMATCH');
      assert.match(error.message, /restart this daemon with the new key/);
      return true;
    });
    assert.deepEqual((await rows()).map((row) => row.credential_id), ['t1', 't2']);
  });

  it('changes nothing when one credential cannot be decrypted, and names it', async () => {
    await database.pool.query("UPDATE vault_credentials SET ciphertext = (SELECT ciphertext FROM vault_credentials WHERE credential_id = 't1') WHERE credential_id = 't2'");
    const before = await rows();
    await assert.rejects(rotateVaultKey(database.pool, oldKey, newKey), (error: AppError) => {
      assert.equal(error.code, 'VAULT_UNREADABLE');
      assert.match(error.message, /tenant t2 .*nothing was changed/);
      return true;
    });
    assert.deepEqual(await rows(), before);
    const { rows: keyRows } = await database.pool.query<{ key_id: string }>('SELECT key_id FROM vault_key');
    assert.deepEqual(keyRows, [{ key_id: oldKey.id }]);
  });

  it('refuses a current key that is not the vault key, and a new key that is the same as the current one', async () => {
    await assert.rejects(rotateVaultKey(database.pool, newKey, parseVaultKey(newVaultKeyText(), 'third.key')), (error: AppError) => {
      assert.equal(error.code, 'VAULT_KEY_MISMATCH');
      assert.match(error.message, /Nothing was changed/);
      return true;
    });
    await assert.rejects(rotateVaultKey(database.pool, oldKey, oldKey), (error: AppError) => error.code === 'CONFIG_INVALID');
    assert.deepEqual((await rows()).map((row) => row.key_id), [oldKey.id, oldKey.id]);
  });

  it('rotates from the command line: a new key file made 0600, then rotate-key with the current key from the environment', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const output: string[] = [];
      const context = { env: { [VAULT_KEY_ENV]: oldKey.bytes.toString('base64') }, print: (text: string) => output.push(text), warn: () => undefined };
      const keyFile = join(dir, 'next.key');
      await runVaultCommand(['new-key', '--out', keyFile], context);
      assert.equal(((await stat(keyFile)).mode & 0o777).toString(8), '600');
      await assert.rejects(runVaultCommand(['new-key', '--out', keyFile], context), /already exists/);
      const next = await loadVaultKey({ env: {}, keyFile });
      assert.ok(next);

      await runVaultCommand(['rotate-key', '--new-key-file', keyFile, '--store', url], context);
      assert.match(output.join(''), new RegExp(`Re-encrypted 2 credentials .* \\(key id ${oldKey.id} → ${next.id}\\)`));
      assert.ok(!output.join('').includes(next.bytes.toString('base64')), 'the new key is not printed');
      assert.deepEqual((await open(next)).get('t2'), { kind: 'secret', clientSecret: OTHER_SECRET });
    } finally {
      await cleanup();
    }
  });

  it('answers `vault new-key` from the daemon executable with a key the daemon accepts', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const keyFile = join(dir, 'vault.key');
      const child = spawnTypeScript(new URL('../../../daemon/main.ts', import.meta.url), ['vault', 'new-key', '--out', keyFile]);
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(code, 0);
      assert.match(stdout, /Wrote a new vault key/);
      assert.match(await readFile(keyFile, 'utf8'), /^[A-Za-z0-9+/]{43}=\n$/);
      assert.ok(await loadVaultKey({ env: {}, keyFile }));
    } finally {
      await cleanup();
    }
  });

  it('refuses rotate-key without a new key file or without the shared database, saying what to give', async () => {
    const context = { env: {}, print: () => undefined, warn: () => undefined };
    await assert.rejects(runVaultCommand(['rotate-key'], context), /needs --new-key-file FILE/);
    const { dir, cleanup } = await tempDataDir();
    try {
      const keyFile = join(dir, 'next.key');
      await writeFile(keyFile, newVaultKeyText(), { mode: 0o600 });
      await assert.rejects(runVaultCommand(['rotate-key', '--new-key-file', keyFile], context), /--store or M365_STATUS_STORE/);
    } finally {
      await cleanup();
    }
  });
});
