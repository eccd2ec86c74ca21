import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetch } from 'undici';
import type { DaemonEndpointFile, LockOutcome, RefreshOutcome, TaskListEntry, TaskView, UserPage } from '../../protocol/daemonApi';
import { killHard, spawnTypeScript, waitForLine } from '../support/childProcess';
import { SimHarness } from '../support/simHarness';
import { tempDataDir } from '../support/tempDataDir';

describe('daemon process: restart after kill -9, SIGTERM, one daemon per data directory', function () {
  this.timeout(60_000);
  let sim: SimHarness;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let caFile: string;
  const children: ChildProcessWithoutNullStreams[] = [];

  before(async () => {
    sim = await SimHarness.start();
    ({ dir: dataDir, cleanup } = await tempDataDir('m365-daemon-process'));
    caFile = join(dataDir, 'sim-ca.pem');
    await writeFile(caFile, sim.sim.caPem);
  });
  after(async () => {
    for (const child of children) await killHard(child);
    await sim.stop();
    await cleanup();
  });

  function startDaemon(): ChildProcessWithoutNullStreams {
    const child = spawnTypeScript(new URL('../../daemon/main.ts', import.meta.url), [
      '--data-dir', dataDir,
      '--authority-host', sim.sim.url,
      '--graph-base-url', `${sim.sim.url}/v1.0`,
      '--ca-file', caFile,
      '--poll-interval', '5s',
      '--log-level', 'warn',
    ]);
    children.push(child);
    return child;
  }

  async function connect(child: ChildProcessWithoutNullStreams) {
    await waitForLine(child, /listening on/);
    const endpoint = JSON.parse(await readFile(join(dataDir, 'daemon.json'), 'utf8')) as DaemonEndpointFile;
    return async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
      const response = await fetch(`${endpoint.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${endpoint.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    };
  }

  it('keeps every confirmed lock and leaves no task IN_PROGRESS after kill -9 in the middle of work', async () => {
    const tenant = await sim.createTenant({ users: 40, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    const first = startDaemon();
    const api = await connect(first);
    const added = await api<{ id: string }>('POST', '/v1/tenants', { tenant: tenant.id, appId: tenant.app.appId, credential: { kind: 'secret', clientSecret: tenant.app.secret } });
    assert.equal(added.status, 201);
    const id = added.body.id;
    let users: UserPage['users'] = [];
    for (let i = 0; i < 100 && users.length === 0; i++) {
      users = (await api<UserPage>('GET', `/v1/tenants/${id}/users?limit=5`)).body.users;
      if (users.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    const locked: string[] = [];
    for (const user of users.slice(0, 3)) {
      const answer = await api<LockOutcome>('POST', `/v1/tenants/${id}/users/${user.id}/lock`, { revokeSessions: true });
      assert.equal(answer.body.outcome, 'locked');
      locked.push(user.id);
    }
    // Slow Graph down so the refresh's tasks are mid-flight when the process dies.
    await sim.control('PUT', `/tenants/${tenant.id}/faults`, { latencyMs: 1500 });
    const refresh = await api<RefreshOutcome>('POST', `/v1/tenants/${id}/refresh`);
    assert.equal(refresh.body.outcome, 'queued');
    await new Promise((r) => setTimeout(r, 400));
    await killHard(first);
    await sim.control('PUT', `/tenants/${tenant.id}/faults`, { latencyMs: 0 });

    const second = startDaemon();
    const again = await connect(second);
    const lockedNow = await again<UserPage>('GET', `/v1/tenants/${id}/users?state=locked`);
    assert.deepEqual(lockedNow.body.users.map((u) => u.id).sort(), [...locked].sort());
    // Interrupted tasks end in ERROR with the reason; what was still PENDING runs in the new daemon.
    let all: TaskView[] = [];
    for (let i = 0; i < 200; i++) {
      const tasks = await again<{ entries: TaskListEntry[] }>('GET', `/v1/tasks?automated=true&tenantId=${id}`);
      all = tasks.body.entries.flatMap((e) => (e.type === 'task' ? [e.task] : e.activity.tasks)).filter((t) => t.kind !== 'sync-users');
      if (all.length >= 2 && all.every((t) => t.status === 'COMPLETE' || t.status === 'ERROR')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(all.length, 2);
    assert.ok(all.every((t) => t.status === 'COMPLETE' || t.status === 'ERROR'), JSON.stringify(all.map((t) => [t.name, t.status])));
    const interrupted = all.filter((t) => t.status === 'ERROR');
    assert.ok(interrupted.length >= 1, 'the task running at the kill was not left IN_PROGRESS');
    assert.ok(interrupted.every((t) => /Interrupted by a daemon restart/.test(t.error?.message ?? '')), JSON.stringify(interrupted));

    // SIGTERM: finishes cleanly and removes its daemon file.
    second.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    assert.equal(code, 0);
    await assert.rejects(readFile(join(dataDir, 'daemon.json'), 'utf8'));
  });

  it('refuses to start a second daemon on the same data directory, naming the first', async () => {
    for (const child of children) await killHard(child);
    const first = startDaemon();
    await connect(first);
    const second = startDaemon();
    let stderr = '';
    second.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(stderr, new RegExp(String(first.pid)));
    await killHard(first);
  });

  it('stops at start with a clear message for a bad setting', async () => {
    const child = spawnTypeScript(new URL('../../daemon/main.ts', import.meta.url), ['--data-dir', dataDir, '--poll-interval', 'often']);
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /--poll-interval/);
    assert.match(stderr, /"often"/);
  });
});
