import type { TenantView } from '../../protocol/daemonApi';
import type { TenantStatusResult } from '../status/tenantStatus';
import type { StoredTenant, SyncFailure, UserCounts } from '../store/storeTypes';

/** What a tenant's view was made from, and the view as JSON text. */
interface Entry {
  tenant: TenantInputs;
  counts: UserCounts;
  status: TenantStatusResult['status'];
  reason: string;
  pollIntervalMs: number;
  json: Buffer;
  /** The list this entry was last used in, so that entries of removed tenants are dropped. */
  usedInList: number;
}

type TenantInputs = Pick<
  StoredTenant,
  | 'tenantIdOrDomain'
  | 'displayName'
  | 'appId'
  | 'credentialKind'
  | 'appProfileId'
  | 'lastSyncAt'
  | 'lastAttemptAt'
  | 'lastManagementActivityAt'
  | 'credentialHealth'
> & { lastError: Readonly<SyncFailure> | null };

/** Every this many lists, entries no list used in that time are dropped (their tenants were removed). */
const SWEEP_EVERY_LISTS = 64;

/**
 * Each tenant's view as JSON, made again only when something it shows changed, so that the tenant list
 * is a join of views kept from the last list. Serializing every view on every list was most of the
 * list's time, and its garbage the scavenges a list met right after a large sync. They are kept as UTF-8
 * bytes: joined as text, the whole answer was encoded again on every list.
 *
 * Whether a view changed is decided by comparing what it is made from, field by field, rather than by
 * events: the file store changes a tenant in place (some moves, such as a sync attempt, raise no event),
 * and the shared store answers new records on every read. The status is derived anew for every list,
 * since it moves with time alone. `credentialHealth` is compared by reference: every store replaces it
 * whole and never changes it in place.
 */
export class TenantViewJson {
  readonly #entries = new Map<string, Entry>();
  #lists = 0;
  #made = 0;

  /** How many views were serialized (not asked for): lets tests see that unchanged ones are kept. */
  get madeCount(): number {
    return this.#made;
  }

  /** Starts a list: the entries it uses are kept, and, now and then, the others dropped. */
  startList(): void {
    this.#lists++;
    if (this.#lists % SWEEP_EVERY_LISTS !== 0) return;
    for (const [id, entry] of this.#entries) if (this.#lists - entry.usedInList >= SWEEP_EVERY_LISTS) this.#entries.delete(id);
  }

  /** The view's JSON: the bytes kept for it when nothing it shows changed, else `make()` serialized. */
  bytes(tenant: Readonly<StoredTenant>, counts: UserCounts, derived: TenantStatusResult, make: () => TenantView): Buffer {
    const entry = this.#entries.get(tenant.id);
    if (entry && sameInputs(entry, tenant, counts, derived)) {
      entry.usedInList = this.#lists;
      return entry.json;
    }
    const json = Buffer.from(JSON.stringify(make()));
    this.#made++;
    this.#entries.set(tenant.id, {
      tenant: {
        tenantIdOrDomain: tenant.tenantIdOrDomain,
        displayName: tenant.displayName,
        appId: tenant.appId,
        credentialKind: tenant.credentialKind,
        appProfileId: tenant.appProfileId,
        lastSyncAt: tenant.lastSyncAt,
        lastAttemptAt: tenant.lastAttemptAt,
        lastManagementActivityAt: tenant.lastManagementActivityAt,
        credentialHealth: tenant.credentialHealth,
        // A copy: the file store moves a kept error's time forward in place.
        lastError: tenant.lastError ? { ...tenant.lastError } : null,
      },
      counts: { ...counts },
      status: derived.status,
      reason: derived.reason,
      pollIntervalMs: derived.pollIntervalMs,
      json,
      usedInList: this.#lists,
    });
    return json;
  }
}

function sameInputs(entry: Entry, tenant: Readonly<StoredTenant>, counts: UserCounts, derived: TenantStatusResult): boolean {
  const kept = entry.tenant;
  return (
    entry.status === derived.status &&
    entry.reason === derived.reason &&
    entry.pollIntervalMs === derived.pollIntervalMs &&
    kept.lastSyncAt === tenant.lastSyncAt &&
    kept.lastAttemptAt === tenant.lastAttemptAt &&
    kept.lastManagementActivityAt === tenant.lastManagementActivityAt &&
    kept.credentialHealth === tenant.credentialHealth &&
    sameError(kept.lastError, tenant.lastError) &&
    entry.counts.total === counts.total &&
    entry.counts.enabled === counts.enabled &&
    entry.counts.disabled === counts.disabled &&
    entry.counts.locked === counts.locked &&
    kept.displayName === tenant.displayName &&
    kept.tenantIdOrDomain === tenant.tenantIdOrDomain &&
    kept.appId === tenant.appId &&
    kept.credentialKind === tenant.credentialKind &&
    kept.appProfileId === tenant.appProfileId
  );
}

function sameError(kept: TenantInputs['lastError'], now: StoredTenant['lastError']): boolean {
  if (kept === null || now === null) return kept === now;
  return kept.at === now.at && kept.category === now.category && kept.code === now.code && kept.message === now.message;
}
