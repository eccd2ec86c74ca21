// `npm start`: the product against the Microsoft 365 simulator, no Microsoft account needed.
// Usage: node scripts/start-local.mjs [--data-dir DIR] [--poll-interval 15s] [--sim-port N]
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalProduct } from './local/localProduct.mjs';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: join(tmpdir(), 'm365-status-local') },
    'poll-interval': { type: 'string', default: '15s' },
    'sim-port': { type: 'string', default: '0' },
  },
});

let stopping = false;
const product = await startLocalProduct({
  dataDir: resolve(values['data-dir']),
  pollInterval: values['poll-interval'],
  simPort: values['sim-port'],
  // Structured log lines stay in daemon.log; anything else (a crash) is shown.
  onLine: (name, line, stream) => {
    if (stream === 'stderr' && !line.startsWith('{')) process.stderr.write(`[${name}] ${line}\n`);
  },
});
for (const child of product.processes) {
  child.on('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(`a process of the product exited (${signal ?? code}); stopping.\n`);
    void shutdown(1);
  });
}
async function shutdown(code) {
  stopping = true;
  await product.stop();
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));

const { sim, daemon, daemonDir, registered, appProfile } = product;
const lines = registered.map(({ demo, tenant }) => `  registered ${demo.displayName.padEnd(20)} ${tenant.status.padEnd(12)} (${demo.state})`);
if (appProfile) {
  lines.push(
    `  app profile ${appProfile.name} (${appProfile.id}): its GDAP customers at /v1/app-profiles/${appProfile.id}/customers`,
  );
}
const tokenFile = join(daemonDir, 'daemon.json');
process.stdout.write(
  [
    ...lines,
    '',
    `m365-status is running against the simulator (${sim.url}).`,
    `  daemon      ${daemon.url}   data: ${daemonDir}`,
    `  API token   in ${tokenFile}`,
    `  try         curl -s -H "Authorization: Bearer $(node -p "require('${tokenFile}').token")" ${daemon.url}/v1/tenants`,
    `  in VS Code  set "m365Status.daemon.dataDirectory" to ${daemonDir}`,
    '',
    'Stop with Ctrl+C.',
    '',
  ].join('\n'),
);
