import { open, readFile, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** What Linux says about one process: CPU used, memory, and what it has written. */
export interface ProcStats {
  /** utime + stime, in milliseconds. */
  cpuMs: number;
  rssBytes: number;
  /** VmHWM: the highest resident memory since the process started, so no peak is missed between samples. */
  peakRssBytes: number;
  /** Bytes the process caused to be sent to the storage layer (`/proc/<pid>/io` write_bytes). */
  writeBytes: number;
  /** Bytes passed to write(2) and friends, whatever the page cache then does with them. */
  wchar: number;
}

const clockTicksPerSecond = 100;

/** Reads /proc/<pid>/{stat,status,io}; throws when the process is gone or /proc is missing (not Linux). */
export async function procStats(pid: number): Promise<ProcStats> {
  const [statText, status, io] = await Promise.all([
    readFile(`/proc/${pid}/stat`, 'utf8'),
    readFile(`/proc/${pid}/status`, 'utf8'),
    readFile(`/proc/${pid}/io`, 'utf8'),
  ]);
  // The command name in field 2 may hold spaces and parentheses; the fields after the last ')' are fixed.
  const fields = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const kb = (name: string, text: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    cpuMs: (ticks * 1000) / clockTicksPerSecond,
    rssBytes: kb('VmRSS', status) * 1024,
    peakRssBytes: kb('VmHWM', status) * 1024,
    writeBytes: kb('write_bytes', io),
    wchar: kb('wchar', io),
  };
}

/** The total size of every file under a directory. */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(path);
    else if (entry.isFile()) total += await stat(path).then((s) => s.size, () => 0);
  }
  return total;
}

/**
 * Whether this kernel counts `write_bytes` in /proc/<pid>/io (some containers leave it at 0): writes and
 * fsyncs 64 KiB under `dir` and looks whether this process's own count moved by at least that.
 */
export async function writeBytesCounted(dir: string): Promise<boolean> {
  const path = join(dir, '.write-bytes-probe');
  const before = (await procStats(process.pid)).writeBytes;
  const handle = await open(path, 'w');
  try {
    await handle.write(Buffer.alloc(64 * 1024, 1));
    await handle.sync();
  } finally {
    await handle.close();
    await unlink(path).catch(() => undefined);
  }
  return (await procStats(process.pid)).writeBytes - before >= 64 * 1024;
}

/** Waits until the directory's size holds still for `quietMs` (a compaction finishing), at most `timeoutMs`. */
export async function untilDirectorySettles(dir: string, quietMs = 1_000, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  let last = await directoryBytes(dir);
  while (Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const now = await directoryBytes(dir);
    if (now === last) return;
    last = now;
  }
}
