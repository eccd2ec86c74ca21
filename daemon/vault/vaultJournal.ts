import { open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as z from 'zod';
import { AppError } from '../errors/AppError';
import { PRIVATE_FILE_MODE, syncDirectory } from '../files/writeFileAtomic';
import { vaultEntrySchema, type VaultEntry } from './vaultEntry';

export const VAULT_JOURNAL_FILE_NAME = 'vault.journal';

const journalRecordSchema = z.union([
  z.object({ put: z.string().min(1), entry: vaultEntrySchema }).strict(),
  z.object({ remove: z.string().min(1) }).strict(),
]);
export type VaultJournalRecord = z.infer<typeof journalRecordSchema>;

/**
 * The changes to `vault.json` since it was last written whole, one JSON line each, appended and
 * fdatasynced: a registration makes its credential durable in one append to a file that already exists,
 * with no rename and no directory fsync, and the cost does not grow with the number of tenants. The vault
 * folds the journal into `vault.json` when it opens, when it closes and when the journal grows long.
 */
export class VaultJournal {
  readonly path: string;
  readonly #handle: FileHandle;
  #records: number;

  private constructor(path: string, handle: FileHandle, records: number) {
    this.path = path;
    this.#handle = handle;
    this.#records = records;
  }

  /** Opens the journal for appending, creating it (durably, with its directory entry) if it is missing. */
  static async open(path: string, records: number): Promise<VaultJournal> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'ax', PRIVATE_FILE_MODE);
      await handle.sync();
      await syncDirectory(dirname(path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      handle = await open(path, 'a', PRIVATE_FILE_MODE);
    }
    return new VaultJournal(path, handle, records);
  }

  /** Records appended since the journal was last emptied. */
  get records(): number {
    return this.#records;
  }

  /** Appends the records and resolves once they are on disk. Callers do not overlap (the vault chains them). */
  async append(records: readonly VaultJournalRecord[]): Promise<void> {
    if (records.length === 0) return;
    const text = records.map((record) => `${JSON.stringify(record)}\n`).join('');
    // appendFile writes until every byte is out (a lone write may be short) and fails if it cannot.
    await this.#handle.appendFile(text);
    // fdatasync carries the file's new size with the data, which is all an append changes.
    await this.#handle.datasync();
    this.#records += records.length;
  }

  /** Empties the journal, once `vault.json` holds everything it recorded. */
  async clear(): Promise<void> {
    await this.#handle.truncate(0);
    await this.#handle.sync();
    this.#records = 0;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

/**
 * The records of a journal on disk, oldest first, and whether it holds anything at all (a torn last
 * line counts: it must go before the next append). A last line that does not
 * parse is an append a crash interrupted before it was acknowledged, and is left out; any other line
 * that does not parse means the file was damaged, and is refused rather than guessed at.
 */
export async function readVaultJournal(path: string): Promise<{ records: VaultJournalRecord[]; empty: boolean }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], empty: true };
    throw error;
  }
  const lines = text.split('\n');
  const records: VaultJournalRecord[] = [];
  for (const [index, line] of lines.entries()) {
    if (line === '' && index === lines.length - 1) break;
    const record = parseRecord(line);
    if (record) {
      records.push(record);
      continue;
    }
    const last = index === lines.length - 1 || (index === lines.length - 2 && lines[lines.length - 1] === '');
    if (last) break;
    throw new AppError({
      status: 500,
      code: 'VAULT_UNREADABLE',
      message: `${path} is damaged (line ${index + 1} is not a vault record), so the credentials it holds cannot be read. Restore it from a backup, or remove it and enter again the credentials of tenants added since the daemon last stopped.`,
      details: { file: path, line: index + 1 },
    });
  }
  return { records, empty: text === '' };
}

function parseRecord(line: string): VaultJournalRecord | undefined {
  try {
    const parsed = journalRecordSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Applies journal records to the entries of `vault.json`, in order. */
export function replayVaultJournal(entries: Record<string, VaultEntry>, records: readonly VaultJournalRecord[]): void {
  for (const record of records) {
    if ('put' in record) entries[record.put] = record.entry;
    else delete entries[record.remove];
  }
}
