import { storeMode, type Config } from '../config';
import type { Logger } from '../logging/logger';
import type { SharedDatabase } from '../store/postgres/sharedDatabase';
import type { CredentialVault } from './credentialVault';
import { PostgresVault } from './postgresVault';
import { Vault } from './vault';
import { loadVaultKey, VAULT_KEY_ENV, vaultKeyRequired } from './vaultKey';

export interface OpenVaultOptions {
  logger: Logger;
  now: () => number;
  /** Where `M365_STATUS_VAULT_KEY` is read; the process environment unless a test says otherwise. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The vault the store mode calls for: `vault.json` and its key in the data directory for the local store;
 * for the shared store, the shared database's vault under the key every daemon is given, without which
 * the daemon does not start.
 */
export async function openVault(config: Config, database: SharedDatabase | undefined, options: OpenVaultOptions): Promise<CredentialVault> {
  const env = options.env ?? process.env;
  if (storeMode(config) === 'local') {
    if (config.vaultKeyFile !== undefined || env[VAULT_KEY_ENV]?.trim()) {
      options.logger.warn('a vault key was given, but the local store keeps its own key in the data directory: the key given is not used');
    }
    return Vault.open(config.dataDir, { now: options.now });
  }
  const key = await loadVaultKey({ env, keyFile: config.vaultKeyFile });
  if (!database) throw new Error('the shared vault needs the shared database, opened first');
  if (!key) throw vaultKeyRequired();
  return PostgresVault.open({ pool: database.pool, key, label: database.label, logger: options.logger.child({ component: 'vault' }), now: options.now });
}
