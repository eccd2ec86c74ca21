import type { Migration } from '../migrations';

/**
 * The shared vault: tenant credentials as AES-256-GCM ciphertext, one row each, and the check value of
 * the key they are encrypted under. The key itself is never stored here; every daemon is given it.
 */
export const vaultMigration: Migration = {
  version: 3,
  name: 'shared vault',
  sql: `
    CREATE TABLE vault_key (
      only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
      key_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      rotated_at timestamptz
    );
    COMMENT ON TABLE vault_key IS 'Check value (HMAC) of the key the vault is encrypted under, never the key';

    -- One sequence for every row, so a version is never reused, even by a credential removed and added again.
    CREATE SEQUENCE vault_credential_versions;

    CREATE TABLE vault_credentials (
      credential_id text PRIMARY KEY,
      key_id text NOT NULL,
      iv bytea NOT NULL CHECK (octet_length(iv) = 12),
      tag bytea NOT NULL CHECK (octet_length(tag) = 16),
      ciphertext bytea NOT NULL,
      version bigint NOT NULL DEFAULT nextval('vault_credential_versions'),
      updated_at timestamptz NOT NULL
    );
    COMMENT ON TABLE vault_credentials IS 'Tenant credentials, AES-256-GCM ciphertext bound to credential_id; readable only with the vault key';
  `,
};
