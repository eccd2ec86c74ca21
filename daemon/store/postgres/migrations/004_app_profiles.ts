import type { Migration } from '../migrations';

/**
 * App profiles: one multi-tenant app and its credential kind, used by many tenants (which name it in
 * their record). The name is unique whatever its case; the credential itself is in the vault.
 */
export const appProfilesMigration: Migration = {
  version: 4,
  name: 'app profiles',
  sql: `
    CREATE TABLE app_profiles (
      id text PRIMARY KEY,
      seq bigint NOT NULL DEFAULT nextval('store_seq'),
      name_key text NOT NULL UNIQUE,
      record jsonb NOT NULL
    );
    CREATE INDEX tenants_by_app_profile ON tenants ((record->>'appProfileId')) WHERE record->>'appProfileId' IS NOT NULL;
  `,
};
