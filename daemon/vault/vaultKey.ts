import { createHmac, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { AppError } from '../errors/AppError';

/** The environment variable that can hold the shared vault's key itself, in base64. */
export const VAULT_KEY_ENV = 'M365_STATUS_VAULT_KEY';
const KEY_BYTES = 32;
const HOW_TO_MAKE_ONE = 'openssl rand -base64 32 > vault.key && chmod 600 vault.key';

/** The key of the shared vault, with where it came from (for messages) and its public id. */
export interface VaultKey {
  readonly bytes: Buffer;
  /**
   * A check value, not the key: the first 64 bits of an HMAC keyed by it. The database keeps it to tell
   * a daemon given another key at start, and it may be shown in messages.
   */
  readonly id: string;
  /** `M365_STATUS_VAULT_KEY`, or the key file's path. */
  readonly source: string;
}

export function vaultKeyId(bytes: Buffer): string {
  return createHmac('sha256', bytes).update('m365-status shared vault key id v1').digest('hex').slice(0, 16);
}

/** A new random key, as text for a key file: base64 of 32 bytes and a newline, as `openssl rand -base64 32` writes it. */
export function newVaultKeyText(): string {
  return `${randomBytes(KEY_BYTES).toString('base64')}\n`;
}

/**
 * The key given to this daemon through the environment or a key file, or undefined when neither is
 * given. A key file others can read is refused, as ssh refuses such a private key.
 */
export async function loadVaultKey(source: {
  env: Readonly<Record<string, string | undefined>>;
  keyFile?: string | undefined;
}): Promise<VaultKey | undefined> {
  const fromEnv = source.env[VAULT_KEY_ENV]?.trim() || undefined;
  if (fromEnv !== undefined && source.keyFile !== undefined) {
    throw new AppError({
      status: 400,
      code: 'CONFIG_INVALID',
      message: `Invalid setting ${VAULT_KEY_ENV}: give the vault key one way, either ${VAULT_KEY_ENV} or --vault-key-file (M365_STATUS_VAULT_KEY_FILE), not both.`,
      details: { setting: VAULT_KEY_ENV },
    });
  }
  if (fromEnv !== undefined) return parseVaultKey(fromEnv, VAULT_KEY_ENV);
  if (source.keyFile !== undefined) return readVaultKeyFile(source.keyFile);
  return undefined;
}

export async function readVaultKeyFile(path: string): Promise<VaultKey> {
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch (error) {
    throw new AppError({
      status: 500,
      code: 'VAULT_KEY_MISSING',
      message: `There is no vault key file at ${path}. Make one with: ${HOW_TO_MAKE_ONE}`,
      details: { file: path },
      cause: error,
    });
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new AppError({
      status: 500,
      code: 'VAULT_FILE_EXPOSED',
      message: `The vault key file ${path} can be read by other users (mode ${mode.toString(8)}). Run: chmod 600 "${path}", then start again.`,
      details: { file: path },
    });
  }
  return parseVaultKey(await readFile(path, 'utf8'), path);
}

/** Base64 of exactly 32 bytes; the text itself never appears in the error. */
export function parseVaultKey(text: string, source: string): VaultKey {
  const trimmed = text.trim();
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (bytes.length !== KEY_BYTES) {
    throw new AppError({
      status: 500,
      code: 'VAULT_KEY_INVALID',
      message: `${source} does not hold a vault key: expected ${KEY_BYTES} random bytes in base64 (44 characters). Make one with: ${HOW_TO_MAKE_ONE}`,
      details: { source },
    });
  }
  return { bytes, id: vaultKeyId(bytes), source };
}

/** Shared mode cannot start without a key: say how to make one and hand it to every daemon. */
export function vaultKeyRequired(): AppError {
  return new AppError({
    status: 500,
    code: 'VAULT_KEY_MISSING',
    message:
      'The shared store keeps tenant credentials encrypted under a vault key that every daemon of the deployment is given, and none was given. ' +
      `Make one once (${HOW_TO_MAKE_ONE}, or: m365-status vault new-key --out vault.key), keep a copy somewhere safe, ` +
      `and start every daemon with --vault-key-file vault.key (or the key itself in ${VAULT_KEY_ENV}).`,
    details: { setting: '--vault-key-file' },
  });
}
