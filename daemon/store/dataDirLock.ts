import { randomUUID } from 'node:crypto';
import { link, open, readFile, readlink, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../errors/AppError';
import { PRIVATE_FILE_MODE, syncDirectory } from '../files/writeFileAtomic';

export const LOCK_FILE_NAME = 'daemon.lock';

/** How long a starter waits for another to finish taking over a stale lock. */
const TAKEOVER_WAIT_MS = 10_000;

interface LockHolder {
  pid: number;
  hostname: string;
  startedAt: number;
  token: string;
  /**
   * Where the system says (Linux): the boot the holder ran in, the pid namespace its pid belongs to (a
   * container has its own), and when its process started (in clock ticks since that boot). A pid is given
   * again to other processes, after a reboot most of all; with these a stale lock is told from a live one
   * whoever has its pid now. Locks written without them (by earlier versions, or elsewhere) are judged by
   * the pid alone.
   */
  bootId?: string;
  pidNamespace?: string;
  processStart?: number;
}

const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';

export interface DataDirLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it is still ours. */
  release(): Promise<void>;
}

/**
 * Two daemons on one data directory would each write their own picture and lose the other's writes, so
 * the second refuses to start. The lock is a file naming the holder's pid; one left by a process that no
 * longer exists (a `kill -9`, a crash, a reboot) is taken over.
 */
export async function acquireDataDirLock(dataDir: string, now: number = Date.now()): Promise<DataDirLock> {
  const path = join(dataDir, LOCK_FILE_NAME);
  const holder: LockHolder = { pid: process.pid, hostname: hostname(), startedAt: now, token: randomUUID(), ...(await processIdentity(process.pid)) };
  const content = JSON.stringify(holder);
  for (let attempt = 0; attempt < 10; attempt++) {
    if (await tryCreate(path, content)) {
      await syncDirectory(dataDir);
      return { path, holder, release: () => releaseLock(path, holder.token) };
    }
    const existing = await readHolder(path);
    if (existing === 'missing') continue;
    if (existing !== 'unreadable') await refuseIfAlive(existing, dataDir);
    await removeStale(path, existing);
  }
  throw new AppError({
    status: 500,
    code: 'DATA_DIR_LOCK_CONTENDED',
    message: `Could not take the lock on ${dataDir}: other processes kept replacing ${path}.`,
    details: { path },
  });
}

// The lock appears complete or not at all: written to a private temp name, then hard-linked into place,
// which fails if a lock exists. An exclusive create followed by a write would let a reader see it empty.
async function tryCreate(path: string, content: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  const handle = await open(temp, 'wx', PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE);
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') return await createExclusive(path, content);
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

// For file systems without hard links (FAT, some network shares).
async function createExclusive(path: string, content: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', PRIVATE_FILE_MODE);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function readHolder(path: string): Promise<LockHolder | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (typeof parsed.pid === 'number' && typeof parsed.hostname === 'string' && typeof parsed.token === 'string') {
      return {
        pid: parsed.pid,
        hostname: parsed.hostname,
        startedAt: Number(parsed.startedAt ?? 0),
        token: parsed.token,
        ...(typeof parsed.bootId === 'string' ? { bootId: parsed.bootId } : {}),
        ...(typeof parsed.pidNamespace === 'string' ? { pidNamespace: parsed.pidNamespace } : {}),
        ...(typeof parsed.processStart === 'number' ? { processStart: parsed.processStart } : {}),
      };
    }
  } catch {
    // fall through: garbage in a lock file means no live holder wrote it
  }
  return 'unreadable';
}

async function refuseIfAlive(existing: LockHolder, dataDir: string): Promise<void> {
  const sameHost = existing.hostname === hostname();
  // A pid on another machine (a data directory on a network share) cannot be checked: assume it is alive.
  if (sameHost && !(await isHolderAlive(existing))) return;
  const where = sameHost ? `pid ${existing.pid}` : `pid ${existing.pid} on ${existing.hostname}`;
  const since = existing.startedAt > 0 ? `, started ${new Date(existing.startedAt).toISOString()}` : '';
  throw new AppError({
    status: 409,
    code: 'DATA_DIR_LOCKED',
    message:
      `Another m365-status daemon (${where}${since}) is using ${dataDir}. Stop it first, or point ` +
      `M365_STATUS_DATA_DIR at another directory.`,
    details: { pid: existing.pid, dataDir },
  });
}

/** Whether the process that wrote the lock (on this machine) still runs. */
async function isHolderAlive(holder: LockHolder): Promise<boolean> {
  if (holder.bootId !== undefined || holder.processStart !== undefined) {
    const now = await processIdentity(holder.pid);
    // Written before the last reboot: no process of then runs now, whatever has its pid.
    if (holder.bootId !== undefined && now.bootId !== undefined && holder.bootId !== now.bootId) return false;
    // A pid of another namespace (a daemon in a container, say) names another process here, or none:
    // it cannot be checked, so it is taken as alive, as one on another machine is.
    if (holder.pidNamespace !== undefined && now.pidNamespace !== undefined && holder.pidNamespace !== now.pidNamespace) return true;
    // The pid is there, but another process has it: the holder ended and the pid was given again.
    if (holder.processStart !== undefined && now.processStart !== undefined) return holder.processStart === now.processStart;
  }
  return isProcessAlive(holder.pid);
}

/**
 * The boot and the pid namespace this runs in, and when process `pid` of that namespace started, where the
 * system tells them (Linux); else nothing.
 */
async function processIdentity(pid: number): Promise<Pick<LockHolder, 'bootId' | 'pidNamespace' | 'processStart'>> {
  const [bootId, pidNamespace, stat] = await Promise.all([
    readFile(BOOT_ID_PATH, 'utf8').catch(() => null),
    readlink('/proc/self/ns/pid').catch(() => null),
    readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null),
  ]);
  // "pid (comm) state ppid …": the command may hold spaces and parentheses, so fields are counted after its
  // last ')'; the start time is field 22, the 20th after it.
  const processStart = stat === null ? NaN : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  return {
    ...(bootId?.trim() ? { bootId: bootId.trim() } : {}),
    ...(pidNamespace ? { pidNamespace } : {}),
    ...(Number.isSafeInteger(processStart) ? { processStart } : {}),
  };
}

function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Two starters may both find the same stale lock. Removing it is done under a second lock file, the
// takeover guard, so that reading the lock and removing it are one step to every other starter: under the
// guard the lock is read again and removed only if it is still the stale one read before. (Moving it aside
// and putting back a live lock found there instead would leave a moment with no lock, in which a third
// starter could take it while the first still held it.) Creating a lock needs no guard: it only succeeds
// where there is none.
async function removeStale(path: string, stale: LockHolder | 'unreadable'): Promise<void> {
  const guard = `${path}.takeover`;
  const deadline = Date.now() + TAKEOVER_WAIT_MS;
  const guardHolder: LockHolder = { pid: process.pid, hostname: hostname(), startedAt: Date.now(), token: randomUUID(), ...(await processIdentity(process.pid)) };
  while (!(await tryCreate(guard, JSON.stringify(guardHolder)))) {
    const other = await readHolder(guard);
    if (other === 'missing') continue;
    // A guard left by a starter that died while removing a stale lock.
    if (other === 'unreadable' || (other.hostname === hostname() && !(await isHolderAlive(other)))) {
      await unlink(guard).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new AppError({
        status: 500,
        code: 'DATA_DIR_LOCK_CONTENDED',
        message: `Could not take over the stale lock ${path}: ${guard} has been held by pid ${other.pid} on ${other.hostname} for over ${TAKEOVER_WAIT_MS / 1000} s. Remove it if no daemon is starting.`,
        details: { path: guard },
      });
    }
    await sleep(5 + Math.random() * 20);
  }
  try {
    const current = await readHolder(path);
    const stillStale = stale === 'unreadable' ? current === 'unreadable' : current !== 'missing' && current !== 'unreadable' && current.token === stale.token;
    if (stillStale) {
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

async function releaseLock(path: string, token: string): Promise<void> {
  const current = await readHolder(path);
  if (current === 'missing' || current === 'unreadable' || current.token !== token) return;
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
