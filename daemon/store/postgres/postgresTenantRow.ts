import type { StoredTenant, UserCounts } from '../storeTypes';
import type { PostgresTransaction } from './postgresTransaction';
import { tenantNotFound } from '../../errors/tenantNotFound';

/** A row of `tenants`: the record holds every field of the tenant but its id. */
export interface TenantRow {
  id: string;
  record: Omit<StoredTenant, 'id'>;
  delta_link: string | null;
  users_total: number;
  users_enabled: number;
  users_disabled: number;
  users_locked: number;
}

export const TENANT_COLUMNS = 'id, record, delta_link, users_total, users_enabled, users_disabled, users_locked';

export function tenantFromRow(row: TenantRow): StoredTenant {
  // A record written before app profiles existed has no appProfileId: it signs in with its own app.
  return { ...row.record, appProfileId: row.record.appProfileId ?? null, id: row.id };
}

export function countsFromRow(row: TenantRow): UserCounts {
  return { total: row.users_total, enabled: row.users_enabled, disabled: row.users_disabled, locked: row.users_locked };
}

/**
 * The tenant's row, locked until the transaction ends: every change to a tenant or its users takes it
 * first, so that two daemons changing one tenant (its counts, its refresh rule) take turns.
 */
export async function lockTenantRow(tx: PostgresTransaction, tenantId: string): Promise<TenantRow> {
  const { rows } = await tx.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = $1 FOR UPDATE`, [tenantId]);
  const row = rows[0];
  if (!row) throw tenantNotFound(tenantId);
  return row;
}

/** Replaces the tenant's record; answers the tenant as it is now. */
export async function writeTenantRecord(tx: PostgresTransaction, tenant: StoredTenant): Promise<StoredTenant> {
  const { id, ...record } = tenant;
  await tx.query('UPDATE tenants SET record = $2 WHERE id = $1', [id, JSON.stringify(record)]);
  return structuredClone(tenant);
}
