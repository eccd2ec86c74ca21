import type { ActivityView, SystemLogEntryView, TaskView, TenantView, UserView } from '../../protocol/daemonApi';
import { AppError } from '../errors/AppError';
import type { TenantStatusPolicy, TenantStatusResult } from '../status/tenantStatus';
import { tenantStatus } from '../status/tenantStatus';
import type { Store } from '../store/store';
import type { StoredActivity, StoredTask, StoredTenant, StoredUser, SystemLogEntry, UserCounts } from '../store/storeTypes';
import { TenantViewJson } from './tenantViewJson';

/** How stored records are shown through the API: derived values computed, bookkeeping left out. */
export class ApiViews {
  /** The tenant list's views as kept JSON; see `tenantsJson`. */
  readonly tenantViewJson = new TenantViewJson();
  /** The last list answered and the views it joined: asked again with none changed, it is answered again. */
  #lastList: { pieces: Buffer[]; json: Buffer } | null = null;

  constructor(
    private readonly store: Store,
    private readonly policy: TenantStatusPolicy,
    private readonly now: () => number,
  ) {}

  async tenant(tenant: Readonly<StoredTenant>): Promise<TenantView> {
    return this.#tenantView(tenant, await this.store.countUsers(tenant.id), tenantStatus(tenant, this.policy, this.now()));
  }

  /**
   * `{"tenants": [...]}`, each a tenant's view, as UTF-8 JSON: the list is asked for often, and each view is
   * serialized again only when something it shows changed. A tenant removed between listing and counting
   * its users is left out, not an error. The counts come first, then every view in one synchronous pass:
   * an async step per tenant cost more than the views.
   */
  async tenantsJson(tenants: ReadonlyArray<Readonly<StoredTenant>>): Promise<Buffer> {
    const counts = await Promise.all(tenants.map((tenant) => this.store.countUsers(tenant.id).catch(unlessRemoved)));
    const now = this.now();
    const pieces: Buffer[] = [LIST_START];
    this.tenantViewJson.startList();
    for (const [index, tenant] of tenants.entries()) {
      const tenantCounts = counts[index];
      if (!tenantCounts) continue;
      const derived = tenantStatus(tenant, this.policy, now);
      if (pieces.length > 1) pieces.push(COMMA);
      pieces.push(this.tenantViewJson.bytes(tenant, tenantCounts, derived, () => this.#tenantView(tenant, tenantCounts, derived)));
    }
    pieces.push(LIST_END);
    const last = this.#lastList;
    // Reused only when it joined these very views, so a list of other tenants (a restricted engineer's) is not.
    if (last && last.pieces.length === pieces.length && last.pieces.every((piece, index) => piece === pieces[index])) return last.json;
    const json = Buffer.concat(pieces);
    this.#lastList = { pieces, json };
    return json;
  }

  #tenantView(tenant: Readonly<StoredTenant>, counts: UserCounts, derived: TenantStatusResult): TenantView {
    return {
      id: tenant.id,
      tenant: tenant.tenantIdOrDomain,
      displayName: tenant.displayName,
      appId: tenant.appId,
      credentialKind: tenant.credentialKind,
      appProfileId: tenant.appProfileId,
      status: derived.status,
      statusReason: derived.reason,
      asOf: tenant.lastSyncAt,
      lastAttemptAt: tenant.lastAttemptAt,
      lastError: tenant.lastError,
      pollIntervalMs: derived.pollIntervalMs,
      lastManagementActivityAt: tenant.lastManagementActivityAt,
      counts,
      credentialHealth: tenant.credentialHealth,
    };
  }

  user(user: StoredUser): UserView {
    return {
      id: user.id,
      userPrincipalName: user.userPrincipalName,
      displayName: user.displayName,
      accountEnabled: user.accountEnabled,
      onPremisesSyncEnabled: user.onPremisesSyncEnabled,
      state: user.lock ? 'locked' : user.accountEnabled ? 'enabled' : 'disabled',
      lastChangedAt: user.lastChangedAt,
      lastVerifiedAt: user.lastVerifiedAt,
      lock: user.lock,
    };
  }

  task(task: StoredTask): TaskView {
    const { seq: _seq, origin: _origin, ...view } = task;
    return view;
  }

  async activity(activity: StoredActivity): Promise<ActivityView> {
    return {
      id: activity.id,
      tenantId: activity.tenantId,
      kind: activity.kind,
      name: activity.name,
      description: activity.description,
      actor: activity.actor,
      at: activity.at,
      userId: activity.userId,
      blockedByTaskId: activity.blockedByTaskId,
      tasks: (await Promise.all(activity.taskIds.map((id) => this.store.getTask(id)))).flatMap((task) => (task ? [this.task(task)] : [])),
    };
  }

  logEntry(entry: SystemLogEntry): SystemLogEntryView {
    return {
      id: entry.id,
      at: entry.at,
      level: entry.level,
      message: entry.message,
      code: entry.code,
      taskId: entry.taskId,
      tenantId: entry.tenantId,
    };
  }
}

const LIST_START = Buffer.from('{"tenants":[');
const COMMA = Buffer.from(',');
const LIST_END = Buffer.from(']}');

function unlessRemoved(error: unknown): null {
  if (error instanceof AppError && error.code === 'TENANT_NOT_FOUND') return null;
  throw error;
}
