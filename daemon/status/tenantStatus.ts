import type { Config } from '../config';
import type { StoredTenant, SyncFailureCategory, TenantStatus } from '../store/storeTypes';

export type TenantStatusPolicy = Pick<
  Config,
  'pollIntervalMs' | 'staleAfterPolls' | 'inactiveAfterMs' | 'dormantAfterMs' | 'inactivePollIntervalMs' | 'dormantPollIntervalMs'
>;

export type TenantStatusInput = Pick<
  StoredTenant,
  'createdAt' | 'lastSyncAt' | 'lastError' | 'lastManagementActivityAt' | 'pollIntervalMs'
>;

export interface TenantStatusResult {
  status: TenantStatus;
  /** Plain words for the activity recorded when the status changes. */
  reason: string;
  /** How often this tenant is polled now: slower while INACTIVE or DORMANT, never faster than its own setting. */
  pollIntervalMs: number;
  /** No successful sync for longer than this makes the tenant STALE. */
  staleAfterMs: number;
}

/** Failures that mean the daemon cannot connect at all, rather than that Graph had a bad moment. */
const DISCONNECTING: ReadonlySet<SyncFailureCategory> = new Set(['credentials', 'consent', 'permissions']);

/**
 * One status per tenant, by precedence DISCONNECTED > STALE > DORMANT > INACTIVE > ACTIVE.
 *
 * The stale threshold is counted in the tenant's own poll intervals: a DORMANT tenant polled hourly is not
 * STALE after three minutes. A tenant that never synced is measured from its registration, so a new one
 * gets its first sync's worth of time before it shows STALE.
 */
export function tenantStatus(tenant: TenantStatusInput, policy: TenantStatusPolicy, now: number): TenantStatusResult {
  const idleMs = now - tenant.lastManagementActivityAt;
  const ownInterval = tenant.pollIntervalMs ?? policy.pollIntervalMs;
  const quiet: 'DORMANT' | 'INACTIVE' | null =
    idleMs >= policy.dormantAfterMs ? 'DORMANT' : idleMs >= policy.inactiveAfterMs ? 'INACTIVE' : null;
  const pollIntervalMs =
    quiet === 'DORMANT'
      ? Math.max(ownInterval, policy.dormantPollIntervalMs)
      : quiet === 'INACTIVE'
        ? Math.max(ownInterval, policy.inactivePollIntervalMs)
        : ownInterval;
  const staleAfterMs = policy.staleAfterPolls * pollIntervalMs;
  const result = (status: TenantStatus, reason: string): TenantStatusResult => ({ status, reason, pollIntervalMs, staleAfterMs });

  const error = tenant.lastError;
  if (error && DISCONNECTING.has(error.category) && error.at >= (tenant.lastSyncAt ?? 0)) {
    return result('DISCONNECTED', `the last attempt failed on ${error.category}: ${error.message}`);
  }
  const since = tenant.lastSyncAt ?? tenant.createdAt;
  if (now - since > staleAfterMs) {
    return result(
      'STALE',
      tenant.lastSyncAt === null
        ? `no successful sync since it was registered ${formatAge(now - since)} ago`
        : `no successful sync for ${formatAge(now - since)} (stale after ${formatAge(staleAfterMs)})`,
    );
  }
  if (quiet) return result(quiet, `no management activity for ${formatAge(idleMs)}`);
  return result('ACTIVE', 'synced recently and managed recently');
}

function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.floor(ms / 1000)} s`;
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} days`;
}
