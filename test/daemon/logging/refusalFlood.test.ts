import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, fetch } from 'undici';
import type { DaemonEndpointFile } from '../../../protocol/daemonApi';
import { DEFAULT_LOG_KEEP, DEFAULT_LOG_MAX_BYTES } from '../../../daemon/logging/rotatingLogFile';
import { killHard, waitForLine } from '../../support/childProcess';
import { SimHarness } from '../../support/simHarness';
import { tempDataDir } from '../../support/tempDataDir';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

describe('daemon log under a flood of refused requests', function () {
  this.timeout(240_000);
  let sim: SimHarness;
  let child: ChildProcessWithoutNullStreams | undefined;
  let cleanup: () => Promise<void>;
  let dataDir: string;
  before(async () => {
    sim = await SimHarness.start();
    ({ dir: dataDir, cleanup } = await tempDataDir('m365-flood'));
  });
  after(async () => {
    if (child) await killHard(child);
    await sim.stop();
    await cleanup();
  });

  it('keeps daemon.log and its rotations bounded through 20,000 refused requests, and reports their counts', async () => {
    const caFile = join(dataDir, 'sim-ca.pem');
    await writeFile(caFile, sim.sim.caPem);
    const daemon = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'daemon/main.ts'), '--data-dir', dataDir, '--authority-host', sim.sim.url, '--graph-base-url', `${sim.sim.url}/v1.0`, '--ca-file', caFile],
      { cwd: repoRoot, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'test' } },
    );
    child = daemon;
    daemon.stderr.resume();
    await waitForLine(daemon, /listening on/);
    daemon.stdout.resume();
    const endpoint = JSON.parse(await readFile(join(dataDir, 'daemon.json'), 'utf8')) as DaemonEndpointFile;
    const logBefore = (await stat(join(dataDir, 'daemon.log'))).size;

    // Half without the token, half as a web page would send them (with an Origin): two kinds of refusal.
    const floodStarted = Date.now();
    const agent = new Agent({ connections: 16, pipelining: 1 });
    const total = 20_000;
    let sent = 0;
    const statuses = new Map<number, number>();
    const worker = async (): Promise<void> => {
      while (sent < total) {
        const n = sent++;
        const response = await fetch(`${endpoint.url}/v1/tenants/${n}/refresh`, {
          method: 'POST',
          dispatcher: agent,
          headers: n % 2 === 0 ? { authorization: 'Bearer wrong' } : { authorization: `Bearer ${endpoint.token}`, origin: 'https://evil.example' },
        });
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await agent.close();
    assert.deepEqual(Object.fromEntries(statuses), { 401: 10_000, 403: 10_000 });

    const grown = (await stat(join(dataDir, 'daemon.log'))).size - logBefore;
    assert.ok(grown < 4096, `daemon.log grew by ${grown} bytes for ${total} refusals`);

    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
    const names = (await readdir(dataDir)).filter((name) => name.startsWith('daemon.log'));
    let totalBytes = 0;
    for (const name of names) {
      const info = await stat(join(dataDir, name));
      totalBytes += info.size;
      assert.ok(info.size <= DEFAULT_LOG_MAX_BYTES, name);
      assert.equal(info.mode & 0o777, 0o600, name);
    }
    assert.ok(names.length <= 1 + DEFAULT_LOG_KEEP);
    assert.ok(totalBytes < 64 * 1024, `all logs together: ${totalBytes} bytes`);
    const lines = (await readFile(join(dataDir, 'daemon.log'), 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    // Every refusal is accounted for: logged in full as the first of its window, or counted in a report.
    const windows = Math.ceil((Date.now() - floodStarted) / 60_000);
    for (const code of ['UNAUTHORIZED', 'CROSS_ORIGIN']) {
      const ofCode = lines.filter((line) => line.code === code);
      const reports = ofCode.filter((line) => typeof line.refusedMore === 'number');
      const inFull = ofCode.length - reports.length;
      assert.ok(inFull >= 1 && inFull <= windows + 1, `${code}: ${inFull} lines in full over ${windows} windows`);
      assert.equal(inFull + reports.reduce((sum, line) => sum + Number(line.refusedMore), 0), 10_000, code);
      for (const line of reports) {
        assert.match(String(line.msg), /^refused \d{1,3}(,\d{3})* more requests? like this in the last \d+ s$/);
        assert.ok(String(line.msg).includes(Number(line.refusedMore).toLocaleString('en-US')));
      }
    }
  });
});
