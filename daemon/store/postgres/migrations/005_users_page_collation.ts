import type { Migration } from '../migrations';

/**
 * A users page sorts names by Unicode's root collation ("adam", "Alice", "bob", "Émile"), as the local
 * store does, rather than by the database's locale: with `C` it would put every capital first, and the
 * same tenant would read in a different order on a shared deployment than on a laptop.
 */
export const usersPageCollationMigration: Migration = {
  version: 5,
  name: 'users page in root collation order',
  sql: `
    DROP INDEX users_page;
    CREATE INDEX users_page ON users (tenant_id, page_rank, page_name COLLATE "und-x-icu", user_principal_name COLLATE "und-x-icu", user_id);
  `,
};
