// A real VS Code (code-server, installed by scripts/install-vscode.sh into .vscode-test/) with this
// checkout's extension installed. Used by `npm run demo` and the end-to-end tests.
import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const vscodeTestDir = join(repoRoot, '.vscode-test');
const entry = join(vscodeTestDir, 'node_modules/code-server/out/node/entry.js');

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Copies the built extension (manifest, dist, readme, licence) as an unpacked extension folder. */
export async function installExtension(extensionsDir) {
  const manifest = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8'));
  const target = join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`);
  await mkdir(target, { recursive: true });
  for (const name of ['package.json', 'README.md', 'LICENSE', 'dist']) {
    await cp(join(repoRoot, name), join(target, name), { recursive: true });
  }
  return target;
}

/**
 * Starts code-server on 127.0.0.1 with its own user data, extensions and home directories under
 * `baseDir` (it writes a config file and logs under the home otherwise), and the given user settings.
 */
export async function startCodeServer({ baseDir, port, settings = {}, folder, onLine = () => undefined }) {
  const userDataDir = join(baseDir, 'user-data');
  const extensionsDir = join(baseDir, 'extensions');
  const home = join(baseDir, 'home');
  await mkdir(join(userDataDir, 'User'), { recursive: true });
  await mkdir(home, { recursive: true });
  await writeFile(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ 'security.workspace.trust.enabled': false, 'workbench.startupEditor': 'none', 'workbench.tips.enabled': false, ...settings }, null, 2),
  );
  await installExtension(extensionsDir);
  const workspace = folder ?? join(baseDir, 'workspace');
  await mkdir(workspace, { recursive: true });
  const child = spawn(
    process.execPath,
    [
      entry,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--user-data-dir', userDataDir,
      '--extensions-dir', extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      workspace,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local/share') },
    },
  );
  for (const [stream, kind] of [[child.stdout, 'stdout'], [child.stderr, 'stderr']]) {
    stream.on('data', (chunk) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) onLine('code-server', line, kind);
    });
  }
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}) before it was ready`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) return { child, url, userDataDir, extensionsDir, workspace };
    } catch {
      // not yet listening
    }
    await sleep(100);
  }
  throw new Error('code-server did not answer within 30 s');
}
