import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * Runs `action` with this process's soft limit on the size of the files it writes set to `bytes` (with
 * util-linux's prlimit): a daemon running in this process then fails its writes as on a full disk. Node
 * ignores SIGXFSZ, so a write past the limit fails with EFBIG instead of ending the process.
 */
export async function withFileSizeLimit<T>(bytes: number, action: () => Promise<T>): Promise<T> {
  await execFileAsync('prlimit', ['--pid', String(process.pid), `--fsize=${bytes}:`]);
  try {
    return await action();
  } finally {
    await execFileAsync('prlimit', ['--pid', String(process.pid), '--fsize=unlimited:']);
  }
}
