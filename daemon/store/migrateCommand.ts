import { parseArgs } from 'node:util';
import { loadConfig, storeMode } from '../config';
import { AppError, isAppError } from '../errors/AppError';
import { createLogger } from '../logging/logger';
import { loadVaultKey, VAULT_KEY_ENV, vaultKeyRequired } from '../vault/vaultKey';
import { vaultKeys } from '../vault/vaultKeys';
import { readLocalStore, type LocalStoreSnapshot } from './localStoreSnapshot';
import { importLocalStore, type ImportedCounts } from './postgres/importLocalStore';
import { openSharedDatabase } from './postgres/sharedDatabase';

export interface MigrateCommandIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  now?: () => number;
}

export const MIGRATE_USAGE = [
  'Usage: m365-status migrate --to postgres://… [--data-dir DIR] [--vault-key-file FILE]',
  '',
  'Moves a local store into a shared database, in one transaction: tenants (settings, "as of", delta links),',
  'users and their sign-in state and locks, app profiles, tasks (one left running ends as interrupted),',
  'activities with who did them, the system log, and the credentials, encrypted again under the shared vault',
  `key (--vault-key-file or ${VAULT_KEY_ENV}: the key the shared daemons are given).`,
  '',
  'Stop the local daemon first: the data directory must not be in use. The database must hold no tenants',
  'or app profiles yet. The local store is left as it was.',
  '  --data-dir DIR   the local daemon\'s data directory (default ~/.m365-status, or M365_STATUS_DATA_DIR)',
].join('\n');

/** `m365-status migrate …`: a local user's store moved into a team's shared database. Answers the exit code. */
export async function migrateCommand(args: readonly string[], io: MigrateCommandIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      options: { to: { type: 'string' }, 'data-dir': { type: 'string' }, 'vault-key-file': { type: 'string' }, help: { type: 'boolean' } },
    }));
  } catch (error) {
    io.stderr(`m365-status migrate: ${(error as Error).message}\n\n${MIGRATE_USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    io.stdout(`${MIGRATE_USAGE}\n`);
    return 0;
  }
  try {
    if (values.to === undefined) {
      throw new AppError({ status: 400, code: 'CONFIG_INVALID', message: 'Invalid setting --to: migrate needs the shared database\'s postgres:// connection string.', details: { setting: '--to' } });
    }
    // The settings' own checks: the data directory resolved as the daemon resolves it, the URL's form, the key file.
    const config = loadConfig({
      env: io.env,
      overrides: {
        store: values.to,
        ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
        ...(values['vault-key-file'] === undefined ? {} : { vaultKeyFile: values['vault-key-file'] }),
      },
    });
    if (storeMode(config) === 'local' || config.store === undefined) throw new Error('a shared store was given, yet the configuration is local');
    const key = await loadVaultKey({ env: io.env, keyFile: config.vaultKeyFile });
    if (!key) throw vaultKeyRequired();

    const snapshot = await readLocalStore(config.dataDir);
    const database = await openSharedDatabase(config.store, {
      logger: createLogger({ level: 'warn', write: (line) => io.stderr(`${line}\n`) }),
      maxConnections: 1,
    });
    let counts: ImportedCounts;
    try {
      counts = await importLocalStore(database.pool, snapshot, key, (io.now ?? Date.now)());
    } finally {
      await database.close();
    }
    io.stdout(summary(config.dataDir, database.label, counts, snapshot.tenants.length - countWithCredentials(snapshot)));
    return 0;
  } catch (error) {
    io.stderr(`m365-status migrate: ${isAppError(error) ? error.message : (error as Error).message}\n`);
    return isAppError(error) && error.status < 500 ? 2 : 1;
  }
}

function countWithCredentials(snapshot: LocalStoreSnapshot): number {
  return snapshot.tenants.filter(({ tenant }) => snapshot.credentials.has(vaultKeys.ofTenant(tenant))).length;
}

function summary(dataDir: string, database: string, counts: ImportedCounts, withoutCredentials: number): string {
  const lines = [
    `Moved the local store in ${dataDir} into ${database}:`,
    `  tenants         ${counts.tenants}`,
    `  users           ${counts.users} (${counts.lockedUsers} locked by m365-status)`,
    `  app profiles    ${counts.appProfiles}`,
    `  tasks           ${counts.tasks}${counts.interruptedTasks > 0 ? ` (${counts.interruptedTasks} left running, now ended as interrupted)` : ''}`,
    `  activities      ${counts.activities}`,
    `  system log      ${counts.systemLogEntries} entries`,
    `  credentials     ${counts.credentials}, encrypted under the shared vault key`,
  ];
  if (withoutCredentials > 0) {
    lines.push(`${withoutCredentials} tenant${withoutCredentials === 1 ? ' has' : 's have'} no stored credentials: rotate them on the shared deployment.`);
  }
  lines.push(
    `The local store was left as it was. Start the shared daemons on ${database}, then point VS Code at the deployment`,
    '(M365: Sign In to Shared Deployment…) rather than starting the local daemon again, or both will poll the same tenants.',
  );
  return `${lines.join('\n')}\n`;
}
