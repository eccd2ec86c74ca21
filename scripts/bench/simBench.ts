// Simulator capacity: 100 tenants × 2,500 users in one process, how long they take to create, how much
// memory they hold, and how long one tenant takes to page through with the real Graph client.
// Run with `npm run bench:sim`; prints figures, asserts nothing.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fetch } from 'undici';
import { createHttpDispatcher } from '../../daemon/microsoft/httpDispatcher';
import { createTenantGraphClient } from '../../daemon/microsoft/tenantGraphClient';
import { TenantTokenSource } from '../../daemon/microsoft/tenantTokenSource';

const tenants = Number(process.env.BENCH_TENANTS ?? 100);
const usersPerTenant = Number(process.env.BENCH_USERS ?? 2500);

function ms(start: bigint): string {
  return `${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(0)} ms`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

async function main(): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), 'm365-sim-bench-'));
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['dist/sim.js', '--port', '0', '--state-dir', stateDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    let state: { url: string; caPath: string } | undefined;
    while (!state) {
      state = await readFile(join(stateDir, 'sim.json'), 'utf8').then((t) => JSON.parse(t) as { url: string; caPath: string }, () => undefined);
      if (!state) await sleep(20);
    }
    console.log(`simulator up (process start, CA, TLS)        ${ms(started)}`);
    const endpoints = { authorityHost: state.url, graphHost: state.url, caPem: await readFile(state.caPath, 'utf8') };
    const dispatcher = createHttpDispatcher(endpoints);
    const control = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${state.url}/_sim${path}`, {
        method,
        dispatcher,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return (await response.json()) as Record<string, unknown>;
    };

    const creating = process.hrtime.bigint();
    const created: Array<{ id: string; app: { appId: string; secret: string } }> = [];
    for (let i = 0; i < tenants; i++) {
      created.push((await control('POST', '/tenants', { users: usersPerTenant, seed: i + 1, app: {} })) as never);
    }
    console.log(`create ${tenants} tenants × ${usersPerTenant} users (control API)  ${ms(creating)}`);
    const health = (await control('GET', '/health')) as { users: number; memory: { rssBytes: number; heapUsedBytes: number } };
    console.log(`users held                                    ${health.users}`);
    console.log(`simulator memory                              rss ${mib(health.memory.rssBytes)}, heap ${mib(health.memory.heapUsedBytes)}`);

    const target = created[Math.floor(created.length / 2)] ?? created[0];
    if (!target) throw new Error('no tenant created');
    const tokens = new TenantTokenSource(
      { tenant: target.id, clientId: target.app.appId, credential: { kind: 'secret', clientSecret: target.app.secret } },
      endpoints,
      dispatcher,
    );
    const client = createTenantGraphClient(tokens, endpoints, dispatcher, { maxRetries: 3, delaySeconds: 1 });
    await tokens.acquire();

    for (const [label, start] of [
      ['page one tenant: GET /users $top=999 $select', '/users?$select=id,userPrincipalName,displayName,accountEnabled&$top=999'],
      ['page one tenant: full /users/delta round', '/users/delta?$select=id,userPrincipalName,displayName,accountEnabled'],
    ] as const) {
      const paging = process.hrtime.bigint();
      let page = await client.api(start).get();
      let users = page.value.length as number;
      let pages = 1;
      while (page['@odata.nextLink']) {
        page = await client.api(page['@odata.nextLink']).get();
        users += page.value.length;
        pages++;
      }
      console.log(`${label.padEnd(46)}${ms(paging)} (${users} users, ${pages} pages)`);
    }
    const counters = (await control('GET', `/tenants/${target.id}/counters`)) as { bytesServed: number; graphRequests: number };
    console.log(`bytes served to that tenant                   ${mib(counters.bytesServed)} in ${counters.graphRequests} Graph requests`);
    await dispatcher.close();
  } finally {
    child.kill('SIGTERM');
    await rm(stateDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
