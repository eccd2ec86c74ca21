import { AppError } from '../../errors/AppError';
import { newTenantRecord, tenantAddedActivity } from '../storeRecords';
import type { CredentialHealth, CredentialKind, NewTenant, StoredActivity, StoredTenant, StoreEvent, SyncFailure, TenantStatus } from '../storeTypes';
import type { PostgresAppProfiles } from './postgresAppProfiles';
import type { PostgresContext } from './postgresContext';
import type { PostgresTasks } from './postgresTasks';
import { lockTenantRow, TENANT_COLUMNS, tenantFromRow, type TenantRow, writeTenantRecord } from './postgresTenantRow';
import { isUniqueViolation } from './postgresTransaction';
import { tenantNotFound } from '../../errors/tenantNotFound';

/** Tenants, one row each; their users are `PostgresUsers`'s. */
export class PostgresTenants {
  readonly #context: PostgresContext;
  readonly #tasks: PostgresTasks;
  readonly #appProfiles: PostgresAppProfiles;

  constructor(context: PostgresContext, tasks: PostgresTasks, appProfiles: PostgresAppProfiles) {
    this.#context = context;
    this.#tasks = tasks;
    this.#appProfiles = appProfiles;
  }

  async addTenant(input: NewTenant): Promise<StoredTenant> {
    const at = this.#context.clock.now();
    const tenant = newTenantRecord(input, at);
    try {
      return await this.#context.transaction(async (tx) => {
        if (input.appProfileId) await this.#appProfiles.assertUsable(tx, input.appProfileId, input.appId);
        const { id, ...record } = tenant;
        await tx.query('INSERT INTO tenants (id, lookup_key, directory_id, record) VALUES ($1, $2, $3, $4)', [
          id,
          lookupKey(input.tenantIdOrDomain),
          input.directoryId?.toLowerCase() ?? null,
          JSON.stringify(record),
        ]);
        // The management activity publishes the tenant, as the activity's update leaves it.
        await this.#tasks.insertActivity(tx, tenantAddedActivity(tenant, input.by));
        return structuredClone(tenant);
      });
    } catch (error) {
      // The unique keys decide between two daemons registering the same tenant at once, by the same text or not.
      if (!isUniqueViolation(error)) throw error;
      const { rows } = await this.#context.pool.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE lookup_key = $1 OR directory_id = $2`, [
        lookupKey(input.tenantIdOrDomain),
        input.directoryId?.toLowerCase() ?? null,
      ]);
      const duplicate = rows[0] ? tenantFromRow(rows[0]) : undefined;
      throw AppError.conflict('TENANT_EXISTS', `${input.tenantIdOrDomain} is already registered${duplicate ? ` as "${duplicate.displayName}"` : ''}.`, {
        tenantId: duplicate?.id ?? null,
      });
    }
  }

  async getTenant(tenantId: string): Promise<StoredTenant | undefined> {
    const { rows } = await this.#context.pool.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = $1`, [tenantId]);
    return rows[0] ? tenantFromRow(rows[0]) : undefined;
  }

  async requireTenant(tenantId: string): Promise<StoredTenant> {
    const tenant = await this.getTenant(tenantId);
    if (!tenant) throw tenantNotFound(tenantId);
    return tenant;
  }

  async listTenants(): Promise<StoredTenant[]> {
    const { rows } = await this.#context.pool.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants ORDER BY seq`);
    return rows.map(tenantFromRow);
  }

  removeTenant(tenantId: string, by: string): Promise<StoredActivity> {
    return this.#context.transaction(async (tx) => {
      const tenant = tenantFromRow(await lockTenantRow(tx, tenantId));
      // Its users go with it (ON DELETE CASCADE), in this transaction.
      await tx.query('DELETE FROM tenants WHERE id = $1', [tenantId]);
      await tx.query('DELETE FROM tenant_leases WHERE tenant_id = $1', [tenantId]);
      tx.publish({ type: 'tenant-removed', tenantId });
      const failed = await this.#tasks.failPendingTasksOf(tx, tenantId, this.#context.clock.now());
      tx.publish(...failed.map((task): StoreEvent => ({ type: 'task', task })));
      return this.#tasks.insertActivity(tx, {
        tenantId,
        kind: 'tenant-removed',
        name: 'Removed tenant',
        description: `Removed ${tenant.tenantIdOrDomain} and its cached users.`,
        actor: by,
        management: false,
      });
    });
  }

  recordCredentialsRotated(tenantId: string, credentialKind: CredentialKind, by: string): Promise<StoredActivity> {
    return this.#context.transaction(async (tx) => {
      const tenant = tenantFromRow(await lockTenantRow(tx, tenantId));
      const previous = tenant.credentialKind;
      tenant.credentialKind = credentialKind;
      // Health describes the old credential; the next check fills it in for the new one.
      tenant.credentialHealth = null;
      await writeTenantRecord(tx, tenant);
      // The management activity publishes the tenant, rotated.
      return this.#tasks.insertActivity(tx, {
        tenantId,
        kind: 'credentials-rotated',
        name: 'Rotated credentials',
        description:
          previous === credentialKind
            ? `Replaced the ${credentialKind} used to sign in to ${tenant.tenantIdOrDomain}.`
            : `Replaced the ${previous} used to sign in to ${tenant.tenantIdOrDomain} with a ${credentialKind}.`,
        actor: by,
        management: true,
      });
    });
  }

  // Bookkeeping is written at once here: a row update is small, and a database has no file to rewrite.
  async recordSyncAttempt(tenantId: string): Promise<void> {
    await this.#updateTenant(tenantId, (tenant) => {
      tenant.lastAttemptAt = this.#context.clock.now();
    }, false);
  }

  async recordSyncSuccess(tenantId: string, at: number = this.#context.clock.now()): Promise<void> {
    await this.#updateTenant(tenantId, (tenant) => {
      tenant.lastSyncAt = Math.max(tenant.lastSyncAt ?? 0, at);
      tenant.lastAttemptAt = Math.max(tenant.lastAttemptAt ?? 0, at);
      tenant.lastError = null;
    });
  }

  async recordSyncFailure(tenantId: string, failure: Omit<SyncFailure, 'at'>): Promise<void> {
    await this.#updateTenant(tenantId, (tenant) => {
      const at = this.#context.clock.now();
      tenant.lastAttemptAt = at;
      tenant.lastError = { ...failure, at };
    });
  }

  recordTenantStatus(tenantId: string, status: TenantStatus, reason: string): Promise<StoredActivity | undefined> {
    return this.#context.transaction(async (tx) => {
      const tenant = tenantFromRow(await lockTenantRow(tx, tenantId));
      if (tenant.status === status) return undefined;
      const previous = tenant.status;
      tenant.status = status;
      tenant.statusChangedAt = this.#context.clock.now();
      tx.publish({ type: 'tenant', tenant: await writeTenantRecord(tx, tenant) });
      return this.#tasks.insertActivity(tx, {
        tenantId,
        kind: 'status-change',
        name: 'Status changed',
        description: `${previous} → ${status}: ${reason}`,
        actor: 'm365-status',
        management: false,
      });
    });
  }

  async recordCredentialHealth(tenantId: string, health: CredentialHealth): Promise<void> {
    await this.#updateTenant(tenantId, (tenant) => {
      tenant.credentialHealth = structuredClone(health);
    });
  }

  async #updateTenant(tenantId: string, change: (tenant: StoredTenant) => void, announce = true): Promise<void> {
    this.#context.assertOpen();
    await this.#context.transaction(async (tx) => {
      const tenant = tenantFromRow(await lockTenantRow(tx, tenantId));
      change(tenant);
      const written = await writeTenantRecord(tx, tenant);
      if (announce) tx.publish({ type: 'tenant', tenant: written });
    });
  }

}

function lookupKey(tenantIdOrDomain: string): string {
  return tenantIdOrDomain.toLowerCase();
}
