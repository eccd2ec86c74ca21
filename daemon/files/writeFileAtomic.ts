import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Every file the daemon writes holds tenant data or secrets: readable by the user only. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * A file written in pieces reaches the disk this much at a time. Another file's fsync (a lock's append, say)
 * waits on ext4 for every dirty byte of a file being fsynced beside it: a 27 MB snapshot flushed at once made
 * a lock that came meanwhile wait about 25 ms, one flushed a mebibyte at a time at most about 5 ms.
 */
const FLUSH_EVERY_BYTES = 1024 * 1024;

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp`);
}

/**
 * Replaces `path` so that a crash at any moment leaves either the old content or the new, and resolves
 * only once the new content is on disk. Content given in pieces is written piece by piece, so a large
 * file is never one string or buffer in memory, and flushed as it goes (see FLUSH_EVERY_BYTES).
 *
 * Unlike lowdb's own writer (steno) this fsyncs before and after the rename, and creates the file with
 * mode 0600 whatever the umask: steno's `writeFile` + `rename` gives the final file the umask's mode
 * (usually 0644) and a crash can leave a renamed file whose data never reached the disk.
 *
 * Each step waits for the event loop to come back to it, behind whatever else is ready to run (a sync's
 * page, another request): under load a step costs a turn of the loop, not the disk's time. So steps that
 * do not depend on each other go together: the directory is opened with the file, the mode set while the
 * content is written, the file closed while it is renamed (where the platform allows), and the
 * directory's handle closed once its fsync is done, without waiting. Five turns, where one step after the
 * other took nine.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array | ReadonlyArray<string | Uint8Array>): Promise<void> {
  const temp = tempPathFor(path);
  const directory = openDirectory(dirname(path));
  try {
    const handle = await open(temp, 'w', PRIVATE_FILE_MODE);
    try {
      // The temp file may survive from a crashed run with another mode; open() only applies the mode on creation.
      const mode = handle.chmod(PRIVATE_FILE_MODE);
      // Settled here, reported below: a write that fails first must not leave it unhandled.
      mode.catch(() => undefined);
      if (typeof content === 'string' || content instanceof Uint8Array) await handle.writeFile(content);
      else {
        let unflushed = 0;
        for (const piece of content) {
          const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
          // writeFile, not write: it goes on until every byte is out (a lone write may be short, as on a full
          // disk, and a piece cut short would leave the file missing its middle once renamed into place).
          await handle.writeFile(bytes);
          unflushed += bytes.length;
          if (unflushed >= FLUSH_EVERY_BYTES) {
            await handle.datasync();
            unflushed = 0;
          }
        }
      }
      await mode;
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    // The content is on disk once fsync returns, so the close goes alongside the rename and what it says
    // no longer matters; except on Windows, which cannot rename a file that is open.
    const closed = handle.close();
    if (process.platform === 'win32') await closed;
    else closed.catch(() => undefined);
    await renameWithRetry(temp, path);
  } catch (error) {
    closeDirectory(directory);
    throw error;
  }
  await syncOpenedDirectory(directory);
}

// On Windows a reader holding the target open makes rename fail for a moment (EPERM/EBUSY/EACCES).
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (attempt >= 9 || (code !== 'EPERM' && code !== 'EBUSY' && code !== 'EACCES')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
    }
  }
}

/** Makes the rename itself durable. Not every platform can fsync a directory (Windows cannot); that is fine. */
export function syncDirectory(directory: string): Promise<void> {
  return syncOpenedDirectory(openDirectory(directory));
}

type OpenedDirectory = Promise<{ handle: FileHandle } | { error: unknown }>;

function openDirectory(directory: string): OpenedDirectory {
  return open(directory, 'r').then(
    (handle) => ({ handle }),
    (error: unknown) => ({ error }),
  );
}

/** Its handle is closed without waiting: what the fsync made durable stays so, whenever the close ends. */
async function syncOpenedDirectory(directory: OpenedDirectory): Promise<void> {
  const opened = await directory;
  try {
    if ('error' in opened) throw opened.error;
    await opened.handle.sync();
  } catch (error) {
    if (!cannotSyncDirectory(error)) throw error;
  } finally {
    closeDirectory(directory);
  }
}

function closeDirectory(directory: OpenedDirectory): void {
  void directory.then((opened) => {
    if ('handle' in opened) opened.handle.close().catch(() => undefined);
  });
}

function cannotSyncDirectory(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EISDIR' || code === 'EPERM' || code === 'EINVAL' || code === 'EBADF' || code === 'EACCES';
}
