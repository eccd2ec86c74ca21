// The product on this machine with the simulator in place of Microsoft 365: the simulator with its demo
// tenants, the daemon pointed at it, the demo tenants registered. Used by `npm start`, `npm run demo`
// and the end-to-end tests. Needs `dist/sim.js` and `dist/daemon.cjs` (npm run build).
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

async function waitForJson(path, what, child) {
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) before it was ready`);
    try {
      return JSON.parse(await readFile(path, 'utf8'));
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${what} did not start within 20 s (no ${path})`);
}

function startProcess(name, args, onLine) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const [stream, kind] of [[child.stdout, 'stdout'], [child.stderr, 'stderr']]) {
    stream.on('data', (chunk) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) onLine(name, line, kind);
    });
  }
  return child;
}

export function stopProcess(child, timeoutMs = 5000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts the simulator and the daemon under `dataDir` (wiped first: the simulator's tenants live in
 * memory, so a fresh start means fresh tenants) and registers the demo tenants.
 */
export async function startLocalProduct({ dataDir, pollInterval = '15s', simPort = '0', onLine = () => undefined, registerDemoTenants = true }) {
  const simDir = join(dataDir, 'sim');
  const daemonDir = join(dataDir, 'daemon');
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(simDir, { recursive: true, mode: 0o700 });
  const simProcess = startProcess('sim', ['dist/sim.js', '--demo', '--port', simPort, '--state-dir', simDir], onLine);
  const processes = [simProcess];
  const stop = async () => {
    for (const child of [...processes].reverse()) await stopProcess(child);
  };
  try {
    const sim = await waitForJson(join(simDir, 'sim.json'), 'the simulator', simProcess);
    const daemonArgs = [
      'dist/daemon.cjs',
      '--data-dir', daemonDir,
      '--authority-host', sim.identityUrl,
      '--graph-base-url', `${sim.url}/v1.0`,
      '--ca-file', sim.caPath,
      '--poll-interval', pollInterval,
    ];
    const daemonProcess = startProcess('daemon', daemonArgs, onLine);
    processes.push(daemonProcess);
    const daemon = await waitForJson(join(daemonDir, 'daemon.json'), 'the daemon', daemonProcess);
    const registered = [];
    if (registerDemoTenants) {
      for (const demo of sim.demoTenants) {
        const response = await fetch(`${daemon.url}/v1/tenants`, {
          method: 'POST',
          headers: { authorization: `Bearer ${daemon.token}`, 'content-type': 'application/json', 'x-m365-operator': 'demo' },
          body: JSON.stringify({
            tenant: demo.domain,
            displayName: demo.displayName,
            appId: demo.appId,
            credential: { kind: 'secret', clientSecret: demo.clientSecret, ...(demo.secretExpiresAt ? { expiresAt: demo.secretExpiresAt } : {}) },
          }),
        });
        const tenant = await response.json();
        if (!response.ok) throw new Error(`registering ${demo.domain} answered ${response.status}: ${JSON.stringify(tenant)}`);
        registered.push({ demo, tenant });
      }
    }
    // The demo partner's multi-tenant app as an app profile: its GDAP customers can be discovered,
    // consented to and added in bulk at once.
    let appProfile = null;
    if (registerDemoTenants && sim.demoPartner) {
      const partner = sim.demoPartner;
      const response = await fetch(`${daemon.url}/v1/app-profiles`, {
        method: 'POST',
        headers: { authorization: `Bearer ${daemon.token}`, 'content-type': 'application/json', 'x-m365-operator': 'demo' },
        body: JSON.stringify({
          name: partner.displayName,
          partnerTenant: partner.domain,
          appId: partner.appId,
          credential: { kind: 'secret', clientSecret: partner.clientSecret },
        }),
      });
      appProfile = await response.json();
      if (!response.ok) throw new Error(`adding the demo partner's app profile answered ${response.status}: ${JSON.stringify(appProfile)}`);
    }
    return { sim, simDir, daemon, daemonDir, daemonArgs, registered, appProfile, processes, simProcess, daemonProcess, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
