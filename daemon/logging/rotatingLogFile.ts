import { appendFileSync, renameSync, statSync, unlinkSync } from 'node:fs';

export interface RotatingLogFileOptions {
  /** The file is rotated before a line would take it past this size. */
  maxBytes?: number;
  /** Rotated files kept beside it: `daemon.log.1` (newest) … `daemon.log.<keep>`. */
  keep?: number;
}

export const DEFAULT_LOG_MAX_BYTES = 5 * 1024 * 1024;
export const DEFAULT_LOG_KEEP = 3;

/**
 * An append-only log file bounded by size: at most `maxBytes` in the file and `keep` rotated files, all
 * created 0600 (the log names tenants, users and errors). Writes are synchronous so the last lines
 * before a crash are on disk.
 */
export class RotatingLogFile {
  readonly maxBytes: number;
  readonly keep: number;
  #size: number | undefined;

  constructor(
    readonly path: string,
    options: RotatingLogFileOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
    this.keep = options.keep ?? DEFAULT_LOG_KEEP;
  }

  /** Appends one line (without its newline); throws what the file system throws, e.g. before the directory exists. */
  append(line: string): void {
    const text = `${line}\n`;
    const bytes = Buffer.byteLength(text);
    this.#size ??= currentSize(this.path);
    if (this.#size > 0 && this.#size + bytes > this.maxBytes) this.#rotate();
    appendFileSync(this.path, text, { mode: 0o600 });
    this.#size += bytes;
  }

  #rotate(): void {
    removeIfPresent(`${this.path}.${this.keep}`);
    for (let n = this.keep - 1; n >= 1; n--) renameIfPresent(`${this.path}.${n}`, `${this.path}.${n + 1}`);
    if (this.keep > 0) renameIfPresent(this.path, `${this.path}.1`);
    else removeIfPresent(this.path);
    this.#size = 0;
  }
}

function currentSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function renameIfPresent(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
