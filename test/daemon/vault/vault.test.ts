import assert from 'node:assert/strict';
import { chmod, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppError } from '../../../daemon/errors/AppError';
import { createLogger } from '../../../daemon/logging/logger';
import { LowdbStore } from '../../../daemon/store/lowdbStore';
import { Vault, VAULT_FILE_NAME, VAULT_KEY_FILE_NAME } from '../../../daemon/vault/vault';
import { VAULT_JOURNAL_FILE_NAME } from '../../../daemon/vault/vaultJournal';
import { OpenedVaults } from '../../support/openedVaults';
import { tempDataDir } from '../../support/tempDataDir';

const SECRET = 'Zk8Q~s3cr3t-Value.For_Contoso-0001';
const PRIVATE_KEY =
  '-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDtestkeymaterial\n-----END PRIVATE KEY-----\n';
const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIDazCCAlOgAwIBAgIUtestcert\n-----END CERTIFICATE-----\n';

describe('vault', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const vaults = new OpenedVaults();

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDataDir());
  });

  afterEach(async () => {
    await vaults.closeAll();
    await cleanup();
  });

  it('gives back a stored secret and certificate after reopening', async () => {
    const vault = await vaults.open(dir);
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
    await vault.put('t2', { kind: 'certificate', certificatePem: CERTIFICATE, privateKeyPem: PRIVATE_KEY });
    const reopened = await vaults.open(dir);
    assert.deepEqual(reopened.get('t1'), { kind: 'secret', clientSecret: SECRET });
    assert.deepEqual(reopened.get('t2'), { kind: 'certificate', certificatePem: CERTIFICATE, privateKeyPem: PRIVATE_KEY });
    assert.deepEqual(reopened.tenantIds().sort(), ['t1', 't2']);
  });

  it('keeps the secret text out of the main store and out of the vault file, which hold it only encrypted', async () => {
    const store = await LowdbStore.open({ dataDir: dir });
    const vault = await vaults.open(dir);
    try {
      const tenant = await store.addTenant({ tenantIdOrDomain: 'contoso.example', appId: 'app-1', credentialKind: 'secret', by: 'alice' });
      await vault.put(tenant.id, { kind: 'secret', clientSecret: SECRET });
      const other = await store.addTenant({ tenantIdOrDomain: 'fabrikam.example', appId: 'app-2', credentialKind: 'certificate', by: 'alice' });
      await vault.put(other.id, { kind: 'certificate', certificatePem: CERTIFICATE, privateKeyPem: PRIVATE_KEY });
      await store.appendSystemLog({ level: 'info', message: 'registered', tenantId: tenant.id });
    } finally {
      await store.close();
    }
    const forbidden = [
      SECRET,
      Buffer.from(SECRET).toString('base64'),
      'MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDtestkeymaterial',
      'PRIVATE KEY',
    ];
    const files = [VAULT_JOURNAL_FILE_NAME, 'store.json', 'store.journal', 'system-log.json', 'system-log.journal', ...(await readdir(join(dir, 'users'))).map((f) => join('users', f))];
    for (const file of files) {
      const raw = await readFile(join(dir, file), 'utf8');
      for (const text of forbidden) assert.ok(!raw.includes(text), `${file} contains ${text.slice(0, 12)}…`);
    }
    assert.equal((await Vault.storedTenantIds(dir)).length, 2);
  });

  it('writes the vault and its key 0600 even under a permissive umask', async () => {
    const umask = process.umask(0o000);
    try {
      const vault = await vaults.open(dir);
      await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
      await vault.close();
    } finally {
      process.umask(umask);
    }
    for (const file of [VAULT_FILE_NAME, VAULT_JOURNAL_FILE_NAME, VAULT_KEY_FILE_NAME]) {
      assert.equal(((await stat(join(dir, file))).mode & 0o777).toString(8), '600', file);
    }
    assert.equal((await stat(join(dir, VAULT_KEY_FILE_NAME))).size, 32);
  });

  it('rotates a credential, refuses to rotate one that does not exist, and removes one', async () => {
    const vault = await vaults.open(dir);
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
    await vault.rotate('t1', { kind: 'certificate', certificatePem: CERTIFICATE, privateKeyPem: PRIVATE_KEY });
    assert.equal((await vaults.open(dir)).get('t1').kind, 'certificate');
    await assert.rejects(vault.rotate('t9', { kind: 'secret', clientSecret: SECRET }), (error: AppError) => error.status === 404);
    assert.equal(await vault.remove('t1'), true);
    assert.equal(await vault.remove('t1'), false);
    assert.throws(() => vault.get('t1'), (error: AppError) => error.code === 'CREDENTIALS_MISSING');
    assert.deepEqual(await Vault.storedTenantIds(dir), []);
    await vault.close();
    assert.doesNotMatch(await readFile(join(dir, VAULT_FILE_NAME), 'utf8'), /"t1"/);
  });

  it('drops credentials of tenants the store no longer knows', async () => {
    const vault = await vaults.open(dir);
    await vault.put('kept', { kind: 'secret', clientSecret: SECRET });
    await vault.put('orphan', { kind: 'secret', clientSecret: `${SECRET}-2` });
    assert.deepEqual(await vault.retainOnly(['kept']), ['orphan']);
    assert.deepEqual((await vaults.open(dir)).tenantIds(), ['kept']);
  });

  it('detects a credential moved to another tenant or altered, without revealing it', async () => {
    const vault = await vaults.open(dir);
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
    await vault.put('t2', { kind: 'secret', clientSecret: `${SECRET}-other` });
    await vault.close();
    const path = join(dir, VAULT_FILE_NAME);
    const data = JSON.parse(await readFile(path, 'utf8')) as { entries: Record<string, unknown> };
    data.entries['t2'] = data.entries['t1'];
    await writeFile(path, JSON.stringify(data));
    const reopened = await vaults.open(dir);
    assert.throws(() => reopened.get('t2'), (error: AppError) => {
      assert.equal(error.code, 'VAULT_UNREADABLE');
      assert.ok(!error.message.includes(SECRET));
      return true;
    });
    assert.equal(reopened.get('t1').kind, 'secret');
    // Entering the credential again repairs it.
    await reopened.put('t2', { kind: 'secret', clientSecret: 'fresh-secret-value' });
    assert.deepEqual((await vaults.open(dir)).get('t2'), { kind: 'secret', clientSecret: 'fresh-secret-value' });
  });

  it('refuses to start without the key that encrypted its credentials, or with a key others can read', async () => {
    const vault = await vaults.open(dir);
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
    const keyPath = join(dir, VAULT_KEY_FILE_NAME);
    await chmod(keyPath, 0o644);
    await assert.rejects(Vault.open(dir), (error: AppError) => error.code === 'VAULT_FILE_EXPOSED' && /chmod 600/.test(error.message));
    await rm(keyPath);
    await assert.rejects(Vault.open(dir), (error: AppError) => error.code === 'VAULT_KEY_MISSING');
  });

  it('stores a credential with one append to its journal, leaving vault.json as it was, and folds the journal in on close', async () => {
    const vault = await vaults.open(dir);
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
    await vault.close();
    const before = await readFile(join(dir, VAULT_FILE_NAME), 'utf8');

    const reopened = await vaults.open(dir);
    await reopened.put('t2', { kind: 'secret', clientSecret: `${SECRET}-2` });
    await reopened.remove('t1');
    assert.equal(await readFile(join(dir, VAULT_FILE_NAME), 'utf8'), before, 'vault.json not rewritten');
    const journal = (await readFile(join(dir, VAULT_JOURNAL_FILE_NAME), 'utf8')).trim().split('\n');
    assert.deepEqual(journal.map((line) => Object.keys(JSON.parse(line) as object)[0]), ['put', 'remove']);
    assert.deepEqual(await Vault.storedTenantIds(dir), ['t2']);

    await reopened.close();
    assert.deepEqual(Object.keys((JSON.parse(await readFile(join(dir, VAULT_FILE_NAME), 'utf8')) as { entries: object }).entries), ['t2']);
    assert.equal((await stat(join(dir, VAULT_JOURNAL_FILE_NAME))).size, 0);
    assert.equal((await vaults.open(dir)).get('t2').kind, 'secret');
  });

  it('keeps what a crash left in the journal, and leaves out a last line the crash cut short', async () => {
    const vault = await vaults.open(dir);
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
    // Not closed, as after a crash; then an append the crash cut off half-way.
    const journalPath = join(dir, VAULT_JOURNAL_FILE_NAME);
    const whole = await readFile(journalPath, 'utf8');
    await writeFile(journalPath, `${whole}${whole.slice(0, 40).replace('t1', 't9')}`);

    const reopened = await vaults.open(dir);
    assert.deepEqual(reopened.tenantIds(), ['t1']);
    assert.deepEqual(reopened.get('t1'), { kind: 'secret', clientSecret: SECRET });
    // Folded into vault.json at once, so the next append does not follow the torn line.
    assert.equal((await stat(journalPath)).size, 0);
    await reopened.put('t2', { kind: 'secret', clientSecret: `${SECRET}-2` });
    assert.deepEqual((await vaults.open(dir)).tenantIds().sort(), ['t1', 't2']);
  });

  it('refuses a journal damaged before its last line, naming the file', async () => {
    const vault = await vaults.open(dir);
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
    await vault.put('t2', { kind: 'secret', clientSecret: `${SECRET}-2` });
    const journalPath = join(dir, VAULT_JOURNAL_FILE_NAME);
    const lines = (await readFile(journalPath, 'utf8')).split('\n');
    await writeFile(journalPath, [lines[0]?.slice(0, 30), lines[1], ''].join('\n'));
    await assert.rejects(Vault.open(dir), (error: AppError) => error.code === 'VAULT_UNREADABLE' && error.message.includes(journalPath) && !error.message.includes(SECRET));
  });

  it('reads a vault.json written without a journal, as earlier versions wrote it', async () => {
    const vault = await vaults.open(dir);
    await vault.put('t1', { kind: 'secret', clientSecret: SECRET });
    await vault.close();
    await rm(join(dir, VAULT_JOURNAL_FILE_NAME));
    const reopened = await vaults.open(dir);
    assert.deepEqual(reopened.get('t1'), { kind: 'secret', clientSecret: SECRET });
    await reopened.put('t2', { kind: 'secret', clientSecret: `${SECRET}-2` });
    assert.deepEqual((await Vault.storedTenantIds(dir)).sort(), ['t1', 't2']);
  });

  it('scrubs a credential it has handed out from any later log line', async () => {
    const vault = await vaults.open(dir);
    const unusual = 'no-recognisable-shape-7Gq2';
    await vault.put('t1', { kind: 'secret', clientSecret: unusual });
    const lines: string[] = [];
    createLogger({ write: (line) => lines.push(line) }).error(`token endpoint said: bad secret ${unusual}`, { detail: `echo ${unusual}` });
    assert.ok(!lines.join('').includes(unusual));
  });
});
