// `npm run demo`: the whole product as a user sees it, on this machine, with no Microsoft account: the
// Microsoft 365 simulator with its demo tenants, the daemon, and VS Code (code-server) with the
// extension installed, in your browser.
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer } from 'node:net';
import { freePort, startCodeServer } from './local/codeServer.mjs';
import { startLocalProduct, stopProcess } from './local/localProduct.mjs';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: join(tmpdir(), 'm365-status-demo') },
    port: { type: 'string', default: '8080' },
    'poll-interval': { type: 'string', default: '15s' },
  },
});
const dataDir = resolve(values['data-dir']);
const isFree = (port) =>
  new Promise((resolvePort) => {
    const probe = createServer();
    probe.once('error', () => resolvePort(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePort(true)));
  });
const quietUnlessBroken = (name, line, stream) => {
  if (stream === 'stderr' && !line.startsWith('{') && !/ENOTFOUND|open-vsx|vsda/.test(line)) process.stderr.write(`[${name}] ${line}\n`);
};

const product = await startLocalProduct({ dataDir, pollInterval: values['poll-interval'], onLine: quietUnlessBroken });
let editor;
try {
  // 8080 when it is free, else any free port: a busy default should not stop the demo.
  const wanted = Number(values.port);
  const port = wanted && (await isFree(wanted)) ? wanted : await freePort();
  editor = await startCodeServer({
    baseDir: join(dataDir, 'vscode'),
    port,
    settings: {
      'm365Status.daemon.dataDirectory': product.daemonDir,
      // The demo runs its own daemon against the simulator; the extension connects to it.
      'm365Status.daemon.autoStart': false,
    },
    onLine: quietUnlessBroken,
  });
} catch (error) {
  await product.stop();
  throw error;
}

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  await stopProcess(editor.child);
  await product.stop();
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));
for (const child of [editor.child, ...product.processes]) {
  child.on('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(`a process of the demo exited (${signal ?? code}); stopping.\n`);
    void shutdown(1);
  });
}

process.stdout.write(
  [
    '',
    ...product.registered.map(({ demo, tenant }) => `  ${demo.displayName.padEnd(20)} ${tenant.status.padEnd(12)} ${demo.state}`),
    '',
    `Open ${editor.url}`,
    '  and choose the M365 icon in the activity bar.',
    '',
    `Simulator control API: ${product.sim.url}/_sim/tenants  (re-enable a user "in Microsoft 365" with`,
    `  curl --cacert ${product.sim.caPath} -X PATCH -H 'content-type: application/json' -d '{"accountEnabled":true}' \\`,
    `       ${product.sim.url}/_sim/tenants/contoso.onmicrosoft.com/users/USER_ID )`,
    `Data: ${dataDir}`,
    'Stop with Ctrl+C.',
    '',
  ].join('\n'),
);
