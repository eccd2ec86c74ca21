import type { Migration } from './migrations';
import { storeMigration } from './migrations/001_store';

/**
 * The shared database's schema, step by step: each release appends, never edits. A daemon applies the
 * steps it finds missing when it starts (`migrate`).
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [storeMigration];
