import type { Migration } from '../migrations';

/**
 * Engineers of a shared deployment and their API tokens. A token is kept only as its SHA-256: the token
 * is 32 random bytes, so a hash without salt or stretching cannot be reversed, and a lookup by hash
 * needs no per-row work. A name may be reused once its engineer is revoked; the revoked row stays, so
 * the history of who had access remains.
 */
export const engineersMigration: Migration = {
  version: 2,
  name: 'engineers and their tokens',
  sql: `
    CREATE TABLE engineers (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL,
      role text NOT NULL CHECK (role IN ('reader', 'operator', 'admin')),
      tenants text[],
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz
    );
    CREATE UNIQUE INDEX engineers_active_name ON engineers (lower(name)) WHERE revoked_at IS NULL;

    CREATE TABLE engineer_tokens (
      token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
      engineer_id bigint NOT NULL REFERENCES engineers (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz
    );
    CREATE INDEX engineer_tokens_engineer ON engineer_tokens (engineer_id);
  `,
};
