// Daemon capacity: 100 tenants × 2,500 users kept true by one daemon. Prints the time of the first full
// sync of every tenant, of a quiet poll round, how soon an outside re-enable shows, the daemon's memory,
// what a quiet round costs on disk, and how the API answers while one large event goes to 200 clients
// that never read. Run with `npm run bench`; prints figures, asserts nothing.
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, fetch } from 'undici';
import { loadConfig } from '../../daemon/config';
import { Daemon } from '../../daemon/daemon';
import { createLogger } from '../../daemon/logging/logger';
import type { TenantView, UserPage } from '../../protocol/daemonApi';

const tenants = Number(process.env.BENCH_TENANTS ?? 100);
const usersPerTenant = Number(process.env.BENCH_USERS ?? 2500);
const pollInterval = process.env.BENCH_POLL_INTERVAL ?? '10s';

const seconds = (start: number) => `${((Date.now() - start) / 1000).toFixed(1)} s`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'm365-daemon-bench-'));
  const sim = spawn(process.execPath, ['dist/sim.js', '--port', '0', '--state-dir', join(dir, 'sim'), '--tenants', String(tenants), '--users', String(usersPerTenant)], { stdio: ['ignore', 'ignore', 'inherit'] });
  let daemon: Daemon | undefined;
  try {
    let state: { url: string; caPath: string } | undefined;
    while (!state) {
      state = await readFile(join(dir, 'sim', 'sim.json'), 'utf8').then((t) => JSON.parse(t) as { url: string; caPath: string }, () => undefined);
      if (!state) await sleep(50);
    }
    const ca = new Agent({ connect: { ca: await readFile(state.caPath, 'utf8') } });
    const simTenants = ((await (await fetch(`${state.url}/_sim/tenants`, { dispatcher: ca })).json()) as { value: Array<{ id: string; apps: Array<{ appId: string }> }> }).value;
    // The simulator answers secrets only at creation; rotate to learn one per app.
    const secrets = await Promise.all(
      simTenants.map(async (t) => {
        const appId = t.apps[0]?.appId ?? '';
        const response = await fetch(`${state.url}/_sim/tenants/${t.id}/apps/${appId}/secrets`, { method: 'POST', dispatcher: ca, headers: { 'content-type': 'application/json' }, body: '{}' });
        return { tenant: t.id, appId, secret: ((await response.json()) as { secret: string }).secret };
      }),
    );
    const config = loadConfig({
      env: {},
      overrides: { dataDir: join(dir, 'daemon'), authorityHost: state.url, graphBaseUrl: `${state.url}/v1.0`, caFile: state.caPath, pollIntervalMs: pollInterval, logLevel: 'warn' },
    });
    let cutOff = 0;
    const write = (line: string): void => {
      if (line.includes('disconnected an event stream client that fell behind')) cutOff++;
      else process.stderr.write(`${line}\n`);
    };
    daemon = await Daemon.start({ config, logger: createLogger({ level: 'warn', write }) });
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${daemon?.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${daemon?.token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return (await response.json()) as T;
    };

    const registering = Date.now();
    const ids: string[] = [];
    for (const s of secrets) {
      ids.push((await api<{ id: string }>('POST', '/v1/tenants', { tenant: s.tenant, appId: s.appId, credential: { kind: 'secret', clientSecret: s.secret } })).id);
    }
    console.log(`register ${tenants} tenants over the API (each checked)   ${seconds(registering)}`);
    for (;;) {
      const views = (await api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).tenants;
      if (views.every((t) => t.asOf !== null && t.counts.total === usersPerTenant)) break;
      await sleep(100);
    }
    console.log(`... and every one fully synced (${tenants * usersPerTenant} users)        ${seconds(registering)} from the first registration`);
    global.gc?.();
    const memory = process.memoryUsage();
    console.log(`daemon memory with every user in the store          rss ${mib(memory.rss)}, heap ${mib(memory.heapUsed)} (this process)`);

    await daemon.store.checkpoint();
    const usersDir = join(dir, 'daemon', 'users');
    const before = await Promise.all(ids.map((id) => stat(join(usersDir, `${id}.json`)).then((s) => s.mtimeMs)));
    const quietFrom = Date.now();
    const asOf = new Map((await api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).tenants.map((t) => [t.id, t.asOf ?? 0]));
    for (;;) {
      const views = (await api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).tenants;
      if (views.every((t) => (t.asOf ?? 0) > (asOf.get(t.id) ?? 0))) break;
      await sleep(100);
    }
    console.log(`every tenant polled once more (nothing changed)       within ${seconds(quietFrom)} (interval ${pollInterval})`);
    const after = await Promise.all(ids.map((id) => stat(join(usersDir, `${id}.json`)).then((s) => s.mtimeMs)));
    console.log(`users files rewritten by the quiet round              ${after.filter((m, i) => m !== before[i]).length} of ${tenants}`);

    const target = ids[Math.floor(ids.length / 2)] ?? '';
    const simTarget = secrets[Math.floor(ids.length / 2)]?.tenant ?? '';
    const user = (await api<UserPage>('GET', `/v1/tenants/${target}/users?state=enabled&limit=1`)).users[0];
    if (!user) throw new Error('no enabled user');
    const lock = Date.now();
    await api('POST', `/v1/tenants/${target}/users/${user.id}/lock`, {});
    console.log(`lock one user (Graph PATCH, store on disk)            ${Date.now() - lock} ms`);
    const outside = Date.now();
    await fetch(`${state.url}/_sim/tenants/${simTarget}/users/${user.id}`, { method: 'PATCH', dispatcher: ca, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ accountEnabled: true }) });
    for (;;) {
      const locked = await api<UserPage>('GET', `/v1/tenants/${target}/users?state=locked`);
      if (locked.total === 0) break;
      await sleep(50);
    }
    console.log(`outside re-enable until the lock clears                ${seconds(outside)} (poll interval ${pollInterval})`);

    // 200 event-stream clients that stop reading after the hello, then one tenant's first sync: a
    // single users event of every user, sent to all of them while the API is asked for its health.
    const stalled: Socket[] = await Promise.all(
      Array.from({ length: Number(process.env.BENCH_EVENT_CLIENTS ?? 200) }, () => new Promise<Socket>((resolve) => {
        const socket = connect(daemon?.port ?? 0, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.once('data', () => {
          socket.pause();
          resolve(socket);
        });
        socket.write(`GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:${daemon?.port}\r\nAuthorization: Bearer ${daemon?.token}\r\n\r\n`);
      })),
    );
    const bigUsers = Number(process.env.BENCH_EVENT_USERS ?? 10_000);
    const created = (await (await fetch(`${state.url}/_sim/tenants`, { method: 'POST', dispatcher: ca, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ users: bigUsers, app: {} }) })).json()) as { id: string; app: { appId: string; secret: string } };
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    let slowest = 0;
    let asked = 0;
    let fanningOut = true;
    const asking = (async () => {
      while (fanningOut) {
        const started = Date.now();
        await api('GET', '/v1/health');
        slowest = Math.max(slowest, Date.now() - started);
        asked++;
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        await sleep(10);
      }
    })();
    const big = (await api<{ id: string }>('POST', '/v1/tenants', { tenant: created.id, appId: created.app.appId, credential: { kind: 'secret', clientSecret: created.app.secret } })).id;
    for (;;) {
      const view = await api<TenantView>('GET', `/v1/tenants/${big}`);
      if (view.asOf !== null && view.counts.total === bigUsers) break;
      await sleep(100);
    }
    await sleep(1_000);
    fanningOut = false;
    await asking;
    console.log(`a ${bigUsers}-user first sync to ${stalled.length} stalled streams   health answered ${asked} times, slowest ${slowest} ms; rss +${mib(rssPeak - rssBefore)}; ${cutOff} cut off`);
    for (const socket of stalled) socket.destroy();
    await ca.close();
  } finally {
    await daemon?.stop();
    sim.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
