import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig, storeMode } from '../config';
import { AppError } from '../errors/AppError';
import { createLogger } from '../logging/logger';
import { openSharedDatabase } from '../store/postgres/sharedDatabase';
import { rotateVaultKey } from './rotateVaultKey';
import { loadVaultKey, newVaultKeyText, readVaultKeyFile, VAULT_KEY_ENV, vaultKeyRequired } from './vaultKey';

export interface VaultCommandContext {
  env: Readonly<Record<string, string | undefined>>;
  /** Where answers go: stdout. Never a secret unless the operator asked for a new key without a file. */
  print: (text: string) => void;
  /** Where the shared database's own warnings go: stderr. */
  warn: (line: string) => void;
}

export const VAULT_COMMAND_USAGE = [
  'm365-status vault new-key [--out FILE]',
  '    make a random vault key for the shared store (base64 of 32 bytes): into FILE, created 0600, or printed',
  'm365-status vault rotate-key --new-key-file FILE [--store URL] [--vault-key-file FILE]',
  `    re-encrypt every credential of the shared vault under the key in FILE, in one transaction; the current key comes from --vault-key-file or ${VAULT_KEY_ENV}`,
].join('\n');

/** `m365-status vault …`: the shared vault's key, made and rotated from the command line. */
export async function runVaultCommand(args: readonly string[], context: VaultCommandContext): Promise<void> {
  const [command, ...rest] = args;
  if (command === 'new-key') return newKey(rest, context);
  if (command === 'rotate-key') return rotateKey(rest, context);
  throw AppError.badRequest('BAD_REQUEST', `Unknown vault command ${JSON.stringify(command ?? '')}. Usage:\n${VAULT_COMMAND_USAGE}`);
}

async function newKey(args: readonly string[], context: VaultCommandContext): Promise<void> {
  const { values } = parseArgs({ args: [...args], options: { out: { type: 'string' } }, strict: true });
  const text = newVaultKeyText();
  if (values.out === undefined) {
    context.print(text);
    return;
  }
  try {
    // 'wx': an existing key file is never overwritten; losing a key loses every credential under it.
    await writeFile(values.out, text, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    throw AppError.badRequest('BAD_REQUEST', `${values.out} already exists: a vault key file is never overwritten. Choose another file name.`, { file: values.out });
  }
  context.print(`Wrote a new vault key to ${values.out} (mode 0600). Keep a copy somewhere safe and give it to every daemon with --vault-key-file.\n`);
}

async function rotateKey(args: readonly string[], context: VaultCommandContext): Promise<void> {
  const { values } = parseArgs({
    args: [...args],
    options: { 'new-key-file': { type: 'string' }, store: { type: 'string' }, 'vault-key-file': { type: 'string' } },
    strict: true,
  });
  const newKeyFile = values['new-key-file'];
  if (newKeyFile === undefined) {
    throw AppError.badRequest('CONFIG_INVALID', 'vault rotate-key needs --new-key-file FILE: make the new key with m365-status vault new-key --out FILE.', {
      setting: '--new-key-file',
    });
  }
  const config = loadConfig({ env: context.env, overrides: { store: values.store, vaultKeyFile: values['vault-key-file'] } });
  if (storeMode(config) === 'local' || config.store === undefined) {
    throw AppError.badRequest(
      'CONFIG_INVALID',
      'vault rotate-key rotates the shared vault: give the shared database with --store or M365_STATUS_STORE. (The local vault keeps its own key in the data directory.)',
      { setting: '--store' },
    );
  }
  const current = await loadVaultKey({ env: context.env, keyFile: config.vaultKeyFile });
  if (!current) throw vaultKeyRequired();
  const next = await readVaultKeyFile(newKeyFile);
  const database = await openSharedDatabase(config.store, { logger: createLogger({ write: context.warn, level: 'warn' }), maxConnections: 1 });
  try {
    const rotation = await rotateVaultKey(database.pool, current, next);
    context.print(
      `Re-encrypted ${rotation.credentials} credentials in ${database.label} under the new key (key id ${rotation.previousKeyId} → ${rotation.keyId}).\n` +
        `Give every daemon ${newKeyFile} in place of the old key and restart them: a daemon still running with the old key keeps working but cannot store credentials, and one started with it is refused.\n`,
    );
  } finally {
    await database.close();
  }
}
