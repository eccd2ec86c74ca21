import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createDemoPartner, type DemoPartner } from './demo/demoPartner';
import { createDemoTenants, type DemoTenant } from './demo/demoTenants';
import { SimServer } from './simServer';

const usage = `m365-status simulator: the Microsoft identity platform and Graph v1.0, locally, over HTTPS.

Usage: node dist/sim.js [options]

  --port N          port on 127.0.0.1 of Graph, the control API and the identity platform
                    (default 47443; 0 picks a free one)
  --identity-port N port of the identity platform alone, as Microsoft serves it from a host of its own
                    (default: the port after --port, or a free one with --port 0)
  --state-dir DIR   where ca.pem and sim.json are written (default $M365_STATUS_SIM_DIR or ${join(tmpdir(), 'm365-status-sim')})
  --demo            create the demo tenants (healthy, wrong secret, expiring secret, missing permission)
                    and a partner tenant with a multi-tenant app and five GDAP customers
  --tenants N       create N more generated tenants ...
  --users N         ... with N users each (default 2500)
  --seed N          seed for fault injection (default 1)
  --help            this text

The control API is documented in the README (section "The simulator").`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '47443' },
      'identity-port': { type: 'string' },
      'state-dir': { type: 'string' },
      demo: { type: 'boolean', default: false },
      tenants: { type: 'string', default: '0' },
      users: { type: 'string', default: '2500' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const number = (name: string, raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number, not '${raw}'`);
    return value;
  };
  const port = number('port', values.port);
  const identityPort = values['identity-port'] === undefined ? (port === 0 ? 0 : port + 1) : number('identity-port', values['identity-port']);
  const stateDir = resolve(values['state-dir'] ?? process.env.M365_STATUS_SIM_DIR ?? join(tmpdir(), 'm365-status-sim'));
  const sim = await SimServer.start({ port, identityPort, seed: number('seed', values.seed) });
  const demos: DemoTenant[] = values.demo ? createDemoTenants(sim.directory, sim.clock) : [];
  const demoPartner: DemoPartner | null = values.demo ? createDemoPartner(sim.directory) : null;
  const generated = number('tenants', values.tenants);
  const users = number('users', values.users);
  for (let i = 0; i < generated; i++) sim.directory.createTenant({ users, seed: 1000 + i, app: {} });

  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const caPath = join(stateDir, 'ca.pem');
  const statePath = join(stateDir, 'sim.json');
  await writeFile(caPath, sim.caPem);
  // Written aside and renamed into place: whoever waits for this file to appear never reads half of it.
  const writingPath = `${statePath}.${process.pid}.tmp`;
  await writeFile(writingPath, `${JSON.stringify({ url: sim.url, identityUrl: sim.identityUrl, caPath, pid: process.pid, demoTenants: demos, demoPartner }, null, 2)}\n`, { mode: 0o600 });
  await chmod(writingPath, 0o600);
  await rename(writingPath, statePath);

  const lines = [
    `m365-status simulator listening on ${sim.url}`,
    `  authority      ${sim.identityUrl}/{tenant}   (msal-node knownAuthorities: ["${new URL(sim.identityUrl).host}"]; also served on ${sim.url})`,
    `  Graph          ${sim.url}/v1.0`,
    `  control API    ${sim.url}/_sim/tenants`,
    `  CA certificate ${caPath}`,
    `  state          ${statePath}`,
  ];
  if (demos.length > 0) {
    lines.push('', 'Demo tenants (tenant, app id, the secret to register):');
    for (const demo of demos) lines.push(`  ${demo.domain.padEnd(28)} ${demo.state}\n      appId ${demo.appId}  secret ${demo.clientSecret}`);
  }
  if (demoPartner) {
    lines.push('', `Demo partner ${demoPartner.domain} (multi-tenant app, GDAP customers):`);
    lines.push(`      appId ${demoPartner.appId}  secret ${demoPartner.clientSecret}  redirect URI ${demoPartner.redirectUri}`);
    for (const customer of demoPartner.customers) {
      lines.push(`  ${customer.domain.padEnd(36)} ${customer.consented ? 'consented' : 'not consented yet'}`);
    }
  }
  if (generated > 0) lines.push('', `${generated} generated tenants with ${users} users each.`);
  lines.push('', 'Stop with Ctrl+C.');
  process.stdout.write(`${lines.join('\n')}\n`);

  const stop = () => {
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`sim: ${(error as Error).message}\n`);
  process.exit(1);
});
