// Starts the product locally with the simulator in place of Microsoft 365: the simulator with its demo
// tenants, the daemon pointed at it, and the demo tenants registered. No Microsoft account needed.
// Usage: node scripts/start-local.mjs [--data-dir DIR] [--poll-interval 15s]
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: join(tmpdir(), 'm365-status-local') },
    'poll-interval': { type: 'string', default: '15s' },
    'sim-port': { type: 'string', default: '0' },
  },
});
const dataDir = resolve(values['data-dir']);
const simDir = join(dataDir, 'sim');
const daemonDir = join(dataDir, 'daemon');
const children = [];

function start(name, args) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', () => undefined);
  child.stderr.on('data', (chunk) => {
    for (const line of chunk.toString().split('\n')) if (line.trim() && !line.startsWith('{')) process.stderr.write(`[${name}] ${line}\n`);
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`${name} exited (${signal ?? code}); stopping.\n`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

async function waitForJson(path, what) {
  for (let i = 0; i < 300; i++) {
    try {
      return JSON.parse(await readFile(path, 'utf8'));
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${what} did not start (no ${path})`);
}

let stopping = false;
function stop(code = 0) {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 1500).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r))))).then(() => process.exit(code));
}
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));

// The simulator's tenants live in memory: a fresh start means fresh tenants, so the data starts fresh too.
await rm(dataDir, { recursive: true, force: true });
await mkdir(simDir, { recursive: true, mode: 0o700 });
start('sim', ['dist/sim.js', '--demo', '--port', values['sim-port'], '--state-dir', simDir]);
const sim = await waitForJson(join(simDir, 'sim.json'), 'the simulator');
start('daemon', [
  'dist/daemon.js',
  '--data-dir', daemonDir,
  '--authority-host', sim.url,
  '--graph-base-url', `${sim.url}/v1.0`,
  '--ca-file', sim.caPath,
  '--poll-interval', values['poll-interval'],
]);
const daemon = await waitForJson(join(daemonDir, 'daemon.json'), 'the daemon');
for (const demo of sim.demoTenants) {
  const response = await fetch(`${daemon.url}/v1/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${daemon.token}`, 'content-type': 'application/json', 'x-m365-operator': 'demo' },
    body: JSON.stringify({ tenant: demo.domain, displayName: demo.displayName, appId: demo.appId, credential: { kind: 'secret', clientSecret: demo.clientSecret, ...(demo.secretExpiresAt ? { expiresAt: demo.secretExpiresAt } : {}) } }),
  });
  const tenant = await response.json();
  if (!response.ok) throw new Error(`registering ${demo.domain} answered ${response.status}: ${JSON.stringify(tenant)}`);
  process.stdout.write(`  registered ${demo.displayName.padEnd(20)} ${tenant.status.padEnd(12)} (${demo.state})\n`);
}
process.stdout.write(
  [
    '',
    `m365-status is running against the simulator (${sim.url}).`,
    `  daemon      ${daemon.url}   data: ${daemonDir}`,
    `  API token   in ${join(daemonDir, 'daemon.json')}`,
    `  try         curl -s -H "Authorization: Bearer $(node -p "require('${join(daemonDir, 'daemon.json')}').token")" ${daemon.url}/v1/tenants`,
    `  in VS Code  set "m365Status.daemon.dataDirectory" to ${daemonDir}`,
    '',
    'Stop with Ctrl+C.',
    '',
  ].join('\n'),
);
