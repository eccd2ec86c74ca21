import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { daemonContract } from '../../protocol/daemonContract';
import { AppError } from '../errors/AppError';
import { DEFAULT_LOG_KEEP } from '../logging/rotatingLogFile';
import { LOCK_FILE_NAME } from '../store/dataDirLock';
import { MAIN_FILE_NAME, SYNC_STATE_FILE_NAME, SYSTEM_LOG_FILE_NAME, USERS_DIR_NAME } from '../store/lowdbStore';
import { SYSTEM_LOG_JOURNAL_FILE_NAME } from '../store/lowdbSystemLog';
import { MAIN_JOURNAL_FILE_NAME } from '../store/mainFileJournal';
import { VAULT_FILE_NAME, VAULT_KEY_FILE_NAME } from '../vault/vault';
import { VAULT_JOURNAL_FILE_NAME } from '../vault/vaultJournal';

/** What the daemon keeps in its data directory, all of it private to the user it runs as. */
const OWNED_FILES = [
  MAIN_FILE_NAME,
  MAIN_JOURNAL_FILE_NAME,
  SYNC_STATE_FILE_NAME,
  SYSTEM_LOG_FILE_NAME,
  SYSTEM_LOG_JOURNAL_FILE_NAME,
  VAULT_FILE_NAME,
  VAULT_JOURNAL_FILE_NAME,
  VAULT_KEY_FILE_NAME,
  daemonContract.files.endpoint,
  LOCK_FILE_NAME,
  daemonContract.files.log,
  ...Array.from({ length: DEFAULT_LOG_KEEP }, (_, index) => `${daemonContract.files.log}.${index + 1}`),
];
const OWNED_DIRECTORIES = [USERS_DIR_NAME];
const DIRECTORY_MODE = 0o700;
const FILE_MODE = 0o600;

export interface TightenedPath {
  path: string;
  from: number;
  to: number;
}

export interface DataDirPermissionsReport {
  created: boolean;
  tightened: TightenedPath[];
}

/** `0755 → 0700`, as an operator reads modes. */
export function describeTightened(entry: TightenedPath): string {
  return `${entry.path} ${octal(entry.from)} → ${octal(entry.to)}`;
}

/**
 * Before the store opens: the data directory 0700 and every file the daemon keeps in it 0600 (they hold
 * tenant domains, user names, errors and the vault's key). A directory created beforehand with looser
 * modes is tightened; if the daemon cannot (it is not the owner), it refuses to start and names the
 * exact command to run. Symbolic links inside it are left alone: a mode change would land on what they point to.
 */
export async function secureDataDir(dataDir: string): Promise<DataDirPermissionsReport> {
  let created = false;
  try {
    await lstat(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dataDir, { recursive: true, mode: DIRECTORY_MODE });
    created = true;
  }
  if (process.platform === 'win32') return { created, tightened: [] };

  const candidates: Array<{ path: string; mode: number }> = [{ path: dataDir, mode: DIRECTORY_MODE }];
  for (const name of OWNED_FILES) candidates.push({ path: join(dataDir, name), mode: FILE_MODE });
  for (const name of OWNED_DIRECTORIES) {
    const directory = join(dataDir, name);
    candidates.push({ path: directory, mode: DIRECTORY_MODE });
    const entries = await readdir(directory).catch(() => [] as string[]);
    // Everything in the daemon's own folders is the daemon's: snapshots, change logs, files mid-write.
    for (const entry of entries) candidates.push({ path: join(directory, entry), mode: FILE_MODE });
  }

  const tightened: TightenedPath[] = [];
  const refused: Array<{ path: string; mode: number }> = [];
  for (const candidate of candidates) {
    // The directory itself is the one the operator named, link or not.
    const info = await (candidate.path === dataDir ? stat : lstat)(candidate.path).catch(() => undefined);
    if (!info || info.isSymbolicLink()) continue;
    if (candidate.mode === DIRECTORY_MODE ? !info.isDirectory() : !info.isFile()) continue;
    const from = info.mode & 0o777;
    if ((from & 0o077) === 0) continue;
    try {
      await chmod(candidate.path, candidate.mode);
      tightened.push({ path: candidate.path, from, to: candidate.mode });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'EACCES') throw error;
      refused.push(candidate);
    }
  }
  if (refused.length > 0) {
    const commands = [DIRECTORY_MODE, FILE_MODE]
      .map((mode) => ({ mode, paths: refused.filter((entry) => entry.mode === mode).map((entry) => shellQuote(entry.path)) }))
      .filter((group) => group.paths.length > 0)
      .map((group) => `chmod ${octal(group.mode).slice(1)} ${group.paths.join(' ')}`);
    throw new AppError({
      status: 500,
      code: 'DATA_DIR_NOT_PRIVATE',
      message: `The data directory ${dataDir} can be read by other users, and the daemon cannot tighten it because it does not own ${refused.length === 1 ? 'it' : 'these paths'}. As their owner, run: ${commands.join(' && ')}`,
      details: { dataDir },
    });
  }
  return { created, tightened };
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

function shellQuote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}
