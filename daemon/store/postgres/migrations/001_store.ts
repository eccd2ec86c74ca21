import type { Migration } from '../migrations';

/**
 * The store's tables. Times are milliseconds since the Unix epoch (`bigint`), as the daemon's injected
 * clock gives them, not the database's `now()`: every daemon and every test reads the same clock it wrote.
 * Ids are `text`: they come from outside (URL paths) and an id that is not a UUID must be "not found",
 * not a type error.
 */
export const storeMigration: Migration = {
  version: 1,
  name: 'store',
  sql: `
-- Orders tenants, tasks and activities created in the same millisecond, across daemons.
CREATE SEQUENCE store_seq;

-- A tenant is a JSON record (the StoredTenant without its id), so that a new optional field is a new
-- key, not a migration; what queries need is in columns of its own. The user counts are kept here,
-- changed in the same transaction as the users, so that listing tenants never counts users.
CREATE TABLE tenants (
  id text PRIMARY KEY,
  seq bigint NOT NULL DEFAULT nextval('store_seq'),
  lookup_key text NOT NULL UNIQUE,
  record jsonb NOT NULL,
  delta_link text,
  users_total integer NOT NULL DEFAULT 0,
  users_enabled integer NOT NULL DEFAULT 0,
  users_disabled integer NOT NULL DEFAULT 0,
  users_locked integer NOT NULL DEFAULT 0
);
CREATE INDEX tenants_by_seq ON tenants (seq);

CREATE TABLE users (
  tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  user_id text NOT NULL,
  user_principal_name text NOT NULL,
  display_name text,
  account_enabled boolean NOT NULL,
  on_premises_sync_enabled boolean,
  last_changed_at bigint NOT NULL,
  last_verified_at bigint NOT NULL,
  lock_by text,
  lock_at bigint,
  lock_revoked_sessions boolean,
  -- The order of a users page: locked by the product, otherwise disabled, then enabled; by name.
  page_rank smallint GENERATED ALWAYS AS (CASE WHEN lock_by IS NOT NULL THEN 0 WHEN NOT account_enabled THEN 1 ELSE 2 END) STORED,
  page_name text GENERATED ALWAYS AS (coalesce(display_name, user_principal_name)) STORED,
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX users_page ON users (tenant_id, page_rank, page_name, user_principal_name, user_id);

CREATE TABLE activities (
  id text PRIMARY KEY,
  seq bigint NOT NULL,
  tenant_id text,
  kind text NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  actor text NOT NULL,
  management boolean NOT NULL,
  at bigint NOT NULL,
  user_id text,
  task_ids text[] NOT NULL,
  blocked_by_task_id text
);
CREATE INDEX activities_by_seq ON activities (seq);
CREATE INDEX activities_by_tenant ON activities (tenant_id, seq);

-- Tasks outlive their tenant (history stays), so tenant_id is not a foreign key.
CREATE TABLE tasks (
  id text PRIMARY KEY,
  seq bigint NOT NULL,
  tenant_id text,
  kind text NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  status text NOT NULL CHECK (status IN ('PENDING', 'IN_PROGRESS', 'COMPLETE', 'ERROR')),
  origin text NOT NULL,
  automated boolean NOT NULL,
  activity_id text,
  created_at bigint NOT NULL,
  started_at bigint,
  finished_at bigint,
  error jsonb,
  -- The daemon running it: an IN_PROGRESS task is interrupted only once that daemon is gone.
  daemon_id text
);
CREATE INDEX tasks_by_seq ON tasks (seq);
CREATE INDEX tasks_by_tenant ON tasks (tenant_id, seq);
CREATE INDEX tasks_pending ON tasks (seq) WHERE status = 'PENDING';
CREATE INDEX tasks_in_progress ON tasks (daemon_id) WHERE status = 'IN_PROGRESS';
CREATE INDEX tasks_refresh ON tasks (tenant_id, seq) WHERE origin = 'refresh';
CREATE INDEX tasks_by_activity ON tasks (activity_id);
-- One queued task of a tenant runs at a time, whichever daemons claim them (the poller's own syncs aside).
CREATE UNIQUE INDEX tasks_one_running_per_tenant ON tasks (tenant_id) WHERE status = 'IN_PROGRESS' AND origin <> 'poller';
CREATE INDEX tasks_automated_finished ON tasks (tenant_id, kind, seq) WHERE automated AND status IN ('COMPLETE', 'ERROR');

CREATE TABLE system_log (
  id text PRIMARY KEY,
  seq bigserial NOT NULL UNIQUE,
  at bigint NOT NULL,
  level text NOT NULL,
  message text NOT NULL,
  code text,
  error_id text,
  source text,
  task_id text,
  tenant_id text,
  details jsonb
);
CREATE INDEX system_log_by_task ON system_log (task_id, seq);
CREATE INDEX system_log_by_tenant ON system_log (tenant_id, seq);

-- Every daemon sharing the database, by its heartbeat: one whose heartbeat expired is gone, and its
-- tenants and interrupted tasks are taken over.
CREATE TABLE daemons (
  id text PRIMARY KEY,
  started_at bigint NOT NULL,
  expires_at bigint NOT NULL
);

-- Which daemon syncs which tenant, until when. No foreign key: a lease of a removed tenant is dropped with it.
CREATE TABLE tenant_leases (
  tenant_id text PRIMARY KEY,
  daemon_id text NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX tenant_leases_by_daemon ON tenant_leases (daemon_id);
`,
};
