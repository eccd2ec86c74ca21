import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DaemonEndpointFile } from '../../protocol/daemonApi';
import { readDaemonEndpoint } from '../../extension/client/daemonEndpoint';
import { DaemonHarness } from '../support/daemonHarness';
import { startPostgres, type PostgresServer } from '../support/postgresServer';

describe('daemon.json, by store mode', function () {
  this.timeout(60_000);
  let server: PostgresServer;

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });

  it('holds the local token in local mode, which the extension reads, and is removed at stop', async () => {
    const harness = await DaemonHarness.start();
    try {
      const path = join(harness.dataDir, 'daemon.json');
      const file = JSON.parse(await readFile(path, 'utf8')) as DaemonEndpointFile;
      assert.deepEqual(file, { url: harness.daemon.url, port: harness.daemon.port, pid: process.pid, token: harness.daemon.token, version: file.version });
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.deepEqual(await readDaemonEndpoint(harness.dataDir), file);
      await harness.daemon.stop();
      assert.ok(!(await readdir(harness.dataDir)).includes('daemon.json'));
    } finally {
      await harness.stop();
    }
  });

  it('holds no token in shared mode, only where the daemon listens and its pid; the extension does not take it for a local daemon', async () => {
    const url = await server.createDatabase();
    const vaultKeyFile = join(tmpdir(), `m365-vault-${randomBytes(6).toString('hex')}.key`);
    await writeFile(vaultKeyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const harness = await DaemonHarness.start({ store: url, vaultKeyFile });
    try {
      const path = join(harness.dataDir, 'daemon.json');
      const text = await readFile(path, 'utf8');
      assert.deepEqual(JSON.parse(text), { mode: 'shared', url: harness.daemon.url, port: harness.daemon.port, pid: process.pid, version: (JSON.parse(text) as { version: string }).version });
      assert.ok(!text.includes(harness.daemon.token), 'the unused local token is written nowhere');
      assert.equal(await readDaemonEndpoint(harness.dataDir), undefined);
      await harness.daemon.stop();
      assert.ok(!(await readdir(harness.dataDir)).includes('daemon.json'), 'removed at stop, as in local mode');
    } finally {
      await harness.stop();
      await rm(vaultKeyFile, { force: true });
    }
  });
});
