import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppError } from '../../../daemon/errors/AppError';
import { loadVaultKey, newVaultKeyText, VAULT_KEY_ENV } from '../../../daemon/vault/vaultKey';
import { tempDataDir } from '../../support/tempDataDir';

describe('shared vault key', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDataDir());
  });
  afterEach(() => cleanup());

  it('reads the same key from a 0600 key file as from the environment, with a check value that is not the key', async () => {
    const text = newVaultKeyText();
    const keyFile = join(dir, 'vault.key');
    await writeFile(keyFile, text, { mode: 0o600 });
    const fromFile = await loadVaultKey({ env: {}, keyFile });
    const fromEnv = await loadVaultKey({ env: { [VAULT_KEY_ENV]: text.trim() } });
    assert.ok(fromFile && fromEnv);
    assert.equal(fromFile.bytes.length, 32);
    assert.deepEqual(fromFile.bytes, fromEnv.bytes);
    assert.equal(fromFile.source, keyFile);
    assert.equal(fromEnv.source, VAULT_KEY_ENV);
    assert.match(fromFile.id, /^[0-9a-f]{16}$/);
    assert.equal(fromFile.id, fromEnv.id);
    assert.ok(!fromFile.bytes.toString('hex').includes(fromFile.id));
    const other = await loadVaultKey({ env: { [VAULT_KEY_ENV]: newVaultKeyText() } });
    assert.notEqual(other?.id, fromFile.id);
  });

  it('gives no key when neither the environment nor a key file names one', async () => {
    assert.equal(await loadVaultKey({ env: { [VAULT_KEY_ENV]: '  ' } }), undefined);
  });

  it('refuses a key file that group or others can read, naming the file and the chmod that fixes it', async () => {
    for (const mode of [0o640, 0o604, 0o644]) {
      const keyFile = join(dir, `vault-${mode.toString(8)}.key`);
      await writeFile(keyFile, newVaultKeyText(), { mode });
      await assert.rejects(loadVaultKey({ env: {}, keyFile }), (error: AppError) => {
        assert.equal(error.code, 'VAULT_FILE_EXPOSED');
        assert.ok(error.message.includes(`chmod 600 "${keyFile}"`), error.message);
        assert.ok(error.message.includes(mode.toString(8)));
        return true;
      });
    }
  });

  it('refuses text that is not base64 of 32 bytes, without repeating it', async () => {
    const almost = Buffer.alloc(31, 7).toString('base64');
    for (const text of ['not-a-key-at-all', almost, `${newVaultKeyText().trim()}AAAA`]) {
      await assert.rejects(loadVaultKey({ env: { [VAULT_KEY_ENV]: text } }), (error: AppError) => {
        assert.equal(error.code, 'VAULT_KEY_INVALID');
        assert.ok(error.message.includes('openssl rand -base64 32'));
        assert.ok(!error.message.includes(text));
        return true;
      });
    }
  });

  it('refuses a key given both ways rather than choose one', async () => {
    const keyFile = join(dir, 'vault.key');
    await writeFile(keyFile, newVaultKeyText(), { mode: 0o600 });
    await assert.rejects(loadVaultKey({ env: { [VAULT_KEY_ENV]: newVaultKeyText() }, keyFile }), (error: AppError) => {
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, /one way/);
      return true;
    });
  });

  it('names a missing key file and how to make one', async () => {
    const keyFile = join(dir, 'absent.key');
    await assert.rejects(loadVaultKey({ env: {}, keyFile }), (error: AppError) => {
      assert.equal(error.code, 'VAULT_KEY_MISSING');
      assert.ok(error.message.includes(keyFile) && error.message.includes('openssl rand -base64 32'));
      return true;
    });
  });
});
