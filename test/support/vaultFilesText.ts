import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VAULT_FILE_NAME } from '../../daemon/vault/vault';
import { VAULT_JOURNAL_FILE_NAME } from '../../daemon/vault/vaultJournal';

/** Everything the local vault keeps on disk, as text: `vault.json` and its journal, either possibly absent yet. */
export async function vaultFilesText(dataDir: string): Promise<string> {
  const texts = await Promise.all(
    [VAULT_FILE_NAME, VAULT_JOURNAL_FILE_NAME].map((name) =>
      readFile(join(dataDir, name), 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? '' : Promise.reject(error))),
    ),
  );
  const text = texts.join('\n');
  if (text.trim() === '') throw new Error(`no vault file in ${dataDir}`);
  return text;
}
