import { open, type FileHandle } from 'node:fs/promises';

/**
 * Reads whole files into one buffer that the next read reuses. Memory the process has not touched yet
 * costs a page fault per page on first use: a fresh buffer per file made reading a quarter of a million
 * users' files at start several times slower than reading them into memory already in use.
 *
 * What `read` returns is a view of that buffer, valid until the next `read`: decode it before reading
 * again, and keep nothing that points into it.
 */
export class ReusedReadBuffer {
  #buffer = Buffer.allocUnsafeSlow(0);

  /** The file's bytes, or null when there is no such file. */
  async read(path: string): Promise<Buffer | null> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      // A byte more than the file holds, so that the read that finds its end needs no larger buffer.
      this.#reserve(size + 1);
      let length = 0;
      // To the end of the file as it is read, which may have grown since its size was taken. From the
      // current position, not a given one: a pipe (which a test or a tool may put in a file's place) has none.
      for (;;) {
        if (length === this.#buffer.length) this.#reserve(2 * length + 1, length);
        const { bytesRead } = await handle.read(this.#buffer, length, this.#buffer.length - length, null);
        if (bytesRead === 0) return this.#buffer.subarray(0, length);
        length += bytesRead;
      }
    } finally {
      await handle.close();
    }
  }

  /** Room for `bytes`, keeping the first `keep` bytes held now; grown by half at least, so that rarely. */
  #reserve(bytes: number, keep = 0): void {
    if (bytes <= this.#buffer.length) return;
    const larger = Buffer.allocUnsafeSlow(Math.max(bytes, Math.ceil(1.5 * this.#buffer.length)));
    this.#buffer.copy(larger, 0, 0, keep);
    this.#buffer = larger;
  }
}
