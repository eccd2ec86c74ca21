import type { Migration } from '../migrations';

/**
 * Each tenant's directory id, where its registration knew it, unique: two daemons registering one
 * directory at the same moment, one by its domain and one by its id, both found it unregistered and
 * added it twice, since the text each was given (the tenants' other unique key) differs. Tenants
 * registered before have none, and are told apart by their text as before.
 */
export const tenantDirectoryIdMigration: Migration = {
  version: 6,
  name: 'tenant directory id',
  sql: `
    ALTER TABLE tenants ADD COLUMN directory_id text;
    CREATE UNIQUE INDEX tenants_directory_id ON tenants (directory_id) WHERE directory_id IS NOT NULL;
  `,
};
