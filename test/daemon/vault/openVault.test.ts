import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../../daemon/config';
import type { AppError } from '../../../daemon/errors/AppError';
import { createLogger } from '../../../daemon/logging/logger';
import { openSharedDatabase, type SharedDatabase } from '../../../daemon/store/postgres/sharedDatabase';
import { openVault } from '../../../daemon/vault/openVault';
import { PostgresVault } from '../../../daemon/vault/postgresVault';
import { Vault, VAULT_FILE_NAME } from '../../../daemon/vault/vault';
import { newVaultKeyText, VAULT_KEY_ENV } from '../../../daemon/vault/vaultKey';
import { startPostgres, type PostgresServer } from '../../support/postgresServer';
import { tempDataDir } from '../../support/tempDataDir';

describe('opening the vault the store mode calls for', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let database: SharedDatabase;
  let dir: string;
  let cleanup: () => Promise<void>;
  let lines: string[];
  const logger = () => createLogger({ write: (line) => lines.push(line) });
  const options = (env: Record<string, string> = {}) => ({ logger: logger(), now: Date.now, env });

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    lines = [];
    ({ dir, cleanup } = await tempDataDir());
    database = await openSharedDatabase(await server.createDatabase(), { logger: logger() });
  });
  afterEach(async () => {
    await database.close();
    await cleanup();
  });

  it('keeps credentials in the data directory for the local store, warning that a vault key given is not used', async () => {
    const config = loadConfig({ env: { M365_STATUS_DATA_DIR: dir }, home: dir });
    const vault = await openVault(config, undefined, options({ [VAULT_KEY_ENV]: 'left over from a shared deployment' }));
    assert.ok(vault instanceof Vault);
    assert.ok(lines.some((line) => line.includes('"warn"') && line.includes('the key given is not used')));
    assert.ok(!lines.join('\n').includes('left over'));
    await vault.put('t1', { kind: 'secret', clientSecret: 'local-secret-value' });
    await vault.close();
    assert.ok((await stat(join(dir, VAULT_FILE_NAME))).isFile());
  });

  it('refuses the shared store without a vault key, saying how to make one and give it to every daemon', async () => {
    const config = loadConfig({ env: { M365_STATUS_DATA_DIR: dir, M365_STATUS_STORE: database.label }, home: dir });
    await assert.rejects(openVault(config, database, options()), (error: AppError) => {
      assert.equal(error.code, 'VAULT_KEY_MISSING');
      assert.match(error.message, /openssl rand -base64 32 > vault\.key && chmod 600 vault\.key/);
      assert.match(error.message, /every daemon/);
      assert.match(error.message, /--vault-key-file/);
      return true;
    });
  });

  it('keeps credentials in the shared database for the shared store, under the key from a key file or the environment', async () => {
    const keyText = newVaultKeyText();
    const keyFile = join(dir, 'vault.key');
    await writeFile(keyFile, keyText, { mode: 0o600 });
    const withFile = loadConfig({ env: { M365_STATUS_DATA_DIR: dir, M365_STATUS_STORE: database.label, M365_STATUS_VAULT_KEY_FILE: keyFile }, home: dir });
    const first = await openVault(withFile, database, options());
    assert.ok(first instanceof PostgresVault);
    await first.put('t1', { kind: 'secret', clientSecret: 'shared-secret-value' });
    await first.close();
    const withEnv = loadConfig({ env: { M365_STATUS_DATA_DIR: dir, M365_STATUS_STORE: database.label }, home: dir });
    const second = await openVault(withEnv, database, options({ [VAULT_KEY_ENV]: keyText.trim() }));
    try {
      assert.deepEqual(second.get('t1'), { kind: 'secret', clientSecret: 'shared-secret-value' });
    } finally {
      await second.close();
    }
    await assert.rejects(stat(join(dir, VAULT_FILE_NAME)), { code: 'ENOENT' });
  });
});
