import type { Migration } from './migrations';
import { storeMigration } from './migrations/001_store';
import { engineersMigration } from './migrations/002_engineers';
import { vaultMigration } from './migrations/003_vault';
import { appProfilesMigration } from './migrations/004_app_profiles';
import { usersPageCollationMigration } from './migrations/005_users_page_collation';
import { tenantDirectoryIdMigration } from './migrations/006_tenant_directory_id';

/**
 * The shared database's schema, step by step: each release appends, never edits. A daemon applies the
 * steps it finds missing when it starts (`migrate`).
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [storeMigration, engineersMigration, vaultMigration, appProfilesMigration, usersPageCollationMigration, tenantDirectoryIdMigration];
