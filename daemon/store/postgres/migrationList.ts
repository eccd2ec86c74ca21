import type { Migration } from './migrations';
import { vaultMigration } from './migrations/003_vault';
import { engineersMigration } from './migrations/002_engineers';

/**
 * The shared database's schema, step by step: each release appends, never edits. A daemon applies the
 * steps it finds missing when it starts (`migrate`).
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [engineersMigration, vaultMigration];
