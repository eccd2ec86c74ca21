import assert from 'node:assert/strict';
import type { AppError } from '../../../daemon/errors/AppError';
import { OpenedVaults } from '../../support/openedVaults';
import { tempDataDir } from '../../support/tempDataDir';

const builtInNames = ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'];

describe('vault: tenant ids named like built-in object properties', () => {
  const vaults = new OpenedVaults();

  afterEach(() => vaults.closeAll());

  it('has no credential for any of them until one is stored', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const vault = await vaults.open(dir);
      for (const name of builtInNames) {
        assert.equal(vault.has(name), false, name);
        assert.throws(() => vault.get(name), (error: AppError) => error.code === 'CREDENTIALS_MISSING', name);
        await assert.rejects(vault.rotate(name, { kind: 'secret', clientSecret: 'x' }), (error: AppError) => error.code === 'CREDENTIALS_MISSING');
        assert.equal(await vault.remove(name), false);
      }
      assert.deepEqual(vault.tenantIds(), []);
    } finally {
      await cleanup();
    }
  });

  it('stores, reopens and removes a credential under each as under any id', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const vault = await vaults.open(dir);
      for (const name of builtInNames) await vault.put(name, { kind: 'secret', clientSecret: `secret-of-${name}` });
      const reopened = await vaults.open(dir);
      assert.deepEqual(reopened.tenantIds().sort(), [...builtInNames].sort());
      for (const name of builtInNames) assert.deepEqual(reopened.get(name), { kind: 'secret', clientSecret: `secret-of-${name}` });
      assert.equal(await reopened.remove('__proto__'), true);
      assert.equal(reopened.has('__proto__'), false);
      assert.deepEqual(reopened.tenantIds().sort(), builtInNames.filter((name) => name !== '__proto__').sort());
    } finally {
      await cleanup();
    }
  });
});
