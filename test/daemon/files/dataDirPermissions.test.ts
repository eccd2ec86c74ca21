import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmod, copyFile, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { secureDataDir } from '../../../daemon/files/dataDirPermissions';
import { killHard, waitForLine } from '../../support/childProcess';
import { SimHarness } from '../../support/simHarness';
import { tempDataDir } from '../../support/tempDataDir';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

/** A loose data directory as a careless setup leaves it: 0755, with world-readable files. */
async function looseDataDir(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  await writeFile(join(dir, 'daemon.log'), '{"msg":"an earlier line naming contoso.onmicrosoft.com"}\n', { mode: 0o644 });
  await chmod(join(dir, 'daemon.log'), 0o644);
  await mkdir(join(dir, 'users'), { recursive: true, mode: 0o755 });
  await chmod(join(dir, 'users'), 0o755);
  for (const name of ['0b9f3c2e-5d1a-4c7e-9f00-000000000001.snap.json', '0b9f3c2e-5d1a-4c7e-9f00-000000000001.log']) {
    await writeFile(join(dir, 'users', name), '', { mode: 0o644 });
    await chmod(join(dir, 'users', name), 0o644);
  }
  await writeFile(join(dir, 'notes.txt'), 'not the daemon’s', { mode: 0o644 });
  await chmod(join(dir, 'notes.txt'), 0o644);
}

describe('daemon data directory: private to its owner', function () {
  this.timeout(60_000);
  let sim: SimHarness;
  const children: ChildProcessWithoutNullStreams[] = [];
  before(async () => {
    sim = await SimHarness.start();
  });
  after(async () => {
    for (const child of children) await killHard(child);
    await sim.stop();
  });

  /**
   * The daemon from its sources, or, as another user, the built bundle copied into `as.dir`: the checkout
   * may sit where that user cannot read it (a clone under a private temp directory), the bundle needs
   * nothing beside it.
   */
  async function startDaemon(dataDir: string, caFile: string, as?: { uid: number; gid: number; dir: string }): Promise<ChildProcessWithoutNullStreams> {
    const options = ['--data-dir', dataDir, '--authority-host', sim.sim.url, '--graph-base-url', `${sim.sim.url}/v1.0`, '--ca-file', caFile, '--log-level', 'info'];
    let child: ChildProcessWithoutNullStreams;
    if (as) {
      const bundle = join(as.dir, 'daemon.cjs');
      await copyFile(join(repoRoot, 'dist', 'daemon.cjs'), bundle);
      await chmod(bundle, 0o644);
      child = spawn(process.execPath, [bundle, ...options], { cwd: as.dir, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'test' }, uid: as.uid, gid: as.gid });
    } else {
      child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'daemon/main.ts'), ...options], { cwd: repoRoot, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'test' } });
    }
    children.push(child);
    return child;
  }

  it('tightens a loose directory and its files at start, and says what it tightened', async () => {
    const { dir: parent, cleanup } = await tempDataDir('m365-perms');
    try {
      const dataDir = join(parent, 'data');
      const caFile = join(parent, 'sim-ca.pem');
      await writeFile(caFile, sim.sim.caPem);
      // A first run leaves the daemon's files; a careless copy or restore then loosens all of them.
      const first = await startDaemon(dataDir, caFile);
      await waitForLine(first, /listening on/);
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      const kept = (await readdir(dataDir)).filter((name) => name !== 'users');
      for (const name of kept) await chmod(join(dataDir, name), 0o644);
      await looseDataDir(dataDir);
      assert.ok(kept.length >= 4, kept.join(', '));

      const child = await startDaemon(dataDir, caFile);
      await waitForLine(child, /listening on/);
      assert.equal(await mode(dataDir), 0o700);
      assert.equal(await mode(join(dataDir, 'users')), 0o700);
      for (const name of [...kept, 'daemon.log', 'daemon.json']) assert.equal(await mode(join(dataDir, name)), 0o600, name);
      assert.equal(await mode(join(dataDir, 'notes.txt')), 0o644, 'a file the daemon does not keep is left as it was');
      const log = await readFile(join(dataDir, 'daemon.log'), 'utf8');
      const line = log.split('\n').find((l) => l.includes('tightened the data directory'));
      assert.ok(line, log);
      assert.ok(line.includes(`${dataDir} 0755 → 0700`), line);
      assert.ok(line.includes(`${join(dataDir, 'users')} 0755 → 0700`), line);
      for (const name of ['0b9f3c2e-5d1a-4c7e-9f00-000000000001.snap.json', '0b9f3c2e-5d1a-4c7e-9f00-000000000001.log']) {
        assert.ok(line.includes(`${join(dataDir, 'users', name)} 0644 → 0600`), `users/${name} in ${line}`);
      }
      for (const name of kept) assert.ok(line.includes(`${join(dataDir, name)} 0644 → 0600`), `${name} in ${line}`);
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    } finally {
      await cleanup();
    }
  });

  it('refuses to start on a loose directory it does not own, naming the exact chmod to run, and changes nothing', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const { dir: parent, cleanup } = await tempDataDir('m365-perms');
    try {
      await chmod(parent, 0o755);
      const dataDir = join(parent, 'data');
      await mkdir(dataDir);
      await looseDataDir(dataDir);
      const caFile = join(parent, 'sim-ca.pem');
      await writeFile(caFile, sim.sim.caPem, { mode: 0o644 });
      await chmod(caFile, 0o644);
      // Root owns the directory; the daemon runs as nobody, who may read it but not change its mode.
      const child = await startDaemon(dataDir, caFile, { uid: 65534, gid: 65534, dir: parent });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
      assert.equal(code, 1, stderr);
      assert.ok(stderr.includes(`chmod 700 ${dataDir} ${join(dataDir, 'users')} && chmod 600 `), stderr);
      const filesToTighten = (/&& chmod 600 (.*)$/m.exec(stderr)?.[1] ?? '').split(' ');
      for (const file of [join(dataDir, 'daemon.log'), ...(await readdir(join(dataDir, 'users'))).map((name) => join(dataDir, 'users', name))]) {
        assert.ok(filesToTighten.includes(file), `${file} in ${filesToTighten.join(' ')}`);
      }
      assert.equal(await mode(dataDir), 0o755, 'nothing changed');
      assert.equal(await mode(join(dataDir, 'daemon.log')), 0o644);
      await assert.rejects(stat(join(dataDir, 'store.json')), 'the store never opened');
    } finally {
      await cleanup();
    }
  });

  it('creates a missing directory 0700, and leaves links inside alone', async () => {
    const { dir: parent, cleanup } = await tempDataDir('m365-perms');
    try {
      const created = await secureDataDir(join(parent, 'new', 'data'));
      assert.equal(created.created, true);
      assert.equal(await mode(join(parent, 'new', 'data')), 0o700);
      const outside = join(parent, 'outside.txt');
      await writeFile(outside, 'x', { mode: 0o644 });
      await chmod(outside, 0o644);
      await symlink(outside, join(parent, 'new', 'data', 'daemon.log'));
      const again = await secureDataDir(join(parent, 'new', 'data'));
      assert.deepEqual(again.tightened, []);
      assert.equal(await mode(outside), 0o644, 'a link is not followed');
    } finally {
      await cleanup();
    }
  });
});
