import type { ConsentView, DaemonEvent, SessionView, SystemLogEntryView, TaskListEntry, TenantView, UserView } from '../../protocol/daemonApi';
import type { ConnectionState } from '../client/connectionState';
import { DisposableBase } from '../common/disposableBase';
import { Emitter } from '../common/emitter';
import { ActivityEntries } from './activityEntries';
import type { UserSource } from './tenantUsers';
import { TenantUsers } from './tenantUsers';

export interface TenantsChange {
  /** The tenants whose rows changed; undefined when the list itself changed (added, removed, renamed, reloaded). */
  tenantIds: readonly string[] | undefined;
}

export interface StatusModelOptions {
  users: UserSource;
  /** Users read per "Load more"; the first page of a tenant is this size too. */
  pageSize?: number;
  maxActivityEntries?: number;
}

// One collator for every comparison: localeCompare with options builds one per call, which at a
// thousand tenants made each sort take milliseconds.
const byName = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

function compareTenants(a: TenantView, b: TenantView): number {
  return byName.compare(a.displayName, b.displayName) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A tenant's freshest moment, so that an answer older than what is held can be recognised and dropped. */
function tenantFreshness(tenant: TenantView): number {
  return Math.max(
    tenant.asOf ?? 0,
    tenant.lastAttemptAt ?? 0,
    tenant.lastError?.at ?? 0,
    tenant.credentialHealth?.checkedAt ?? 0,
    tenant.lastManagementActivityAt,
  );
}

/**
 * The extension's one picture of the daemon: tenants, the users read so far, activity, the connection,
 * and which rows have an action under way. The tree, the status bar and the webview all subscribe to it,
 * so one event from the daemon updates all three.
 */
export class StatusModel extends DisposableBase {
  readonly #tenants = new Map<string, TenantView>();
  /** Tenant ids by name; sorted again only when tenants are added, removed or renamed. */
  #order: string[] | undefined;
  readonly #users = new Map<string, TenantUsers>();
  readonly #busy = new Map<string, string>();
  readonly activity: ActivityEntries;
  readonly #source: UserSource;
  readonly #pageSize: number;
  #connection: ConnectionState = { kind: 'connecting' };
  #session: SessionView | undefined;
  #tenantsLoaded = false;

  readonly #onDidChangeTenants = this.register(new Emitter<TenantsChange>());
  readonly onDidChangeTenants = this.#onDidChangeTenants.event;
  readonly #onDidChangeUsers = this.register(new Emitter<{ tenantId: string }>());
  readonly onDidChangeUsers = this.#onDidChangeUsers.event;
  readonly #onDidChangeActivity = this.register(new Emitter<void>());
  readonly onDidChangeActivity = this.#onDidChangeActivity.event;
  readonly #onDidChangeConnection = this.register(new Emitter<ConnectionState>());
  readonly onDidChangeConnection = this.#onDidChangeConnection.event;
  readonly #onDidChangeSession = this.register(new Emitter<SessionView | undefined>());
  /** Signed in as someone else, or to another deployment, or out. */
  readonly onDidChangeSession = this.#onDidChangeSession.event;
  readonly #onDidChangeBusy = this.register(new Emitter<{ key: string }>());
  readonly onDidChangeBusy = this.#onDidChangeBusy.event;
  readonly #onDidDisconnectTenant = this.register(new Emitter<TenantView>());
  /** A tenant turned DISCONNECTED (it was something else before): worth one notification. */
  readonly onDidDisconnectTenant = this.#onDidDisconnectTenant.event;
  readonly #onDidReceiveLog = this.register(new Emitter<SystemLogEntryView>());
  readonly onDidReceiveLog = this.#onDidReceiveLog.event;
  readonly #onDidChangeAppProfiles = this.register(new Emitter<void>());
  /** An app profile was added or rotated from this window: profiles are not in the event stream. */
  readonly onDidChangeAppProfiles = this.#onDidChangeAppProfiles.event;
  readonly #onDidReceiveConsent = this.register(new Emitter<ConsentView>());
  /** A consent link was answered: whoever waits for it need not ask the daemon again and again. */
  readonly onDidReceiveConsent = this.#onDidReceiveConsent.event;

  constructor(options: StatusModelOptions) {
    super();
    this.#source = options.users;
    this.#pageSize = options.pageSize ?? 200;
    this.activity = new ActivityEntries({ maxEntries: options.maxActivityEntries ?? 500 });
  }

  // ---- connection ------------------------------------------------------------------------------------

  get connection(): ConnectionState {
    return this.#connection;
  }

  setConnection(state: ConnectionState): void {
    const same = JSON.stringify(state) === JSON.stringify(this.#connection);
    this.#connection = state;
    if (!same) this.#onDidChangeConnection.fire(state);
  }

  /** Which deployment the daemon is and who it took this window for; undefined until read. */
  get session(): SessionView | undefined {
    return this.#session;
  }

  setSession(session: SessionView | undefined): void {
    const same = JSON.stringify(session) === JSON.stringify(this.#session);
    this.#session = session;
    if (!same) this.#onDidChangeSession.fire(session);
  }

  // ---- tenants ---------------------------------------------------------------------------------------

  /** Whether a tenant listing has been read since the last connection, so "no tenants" means none. */
  get tenantsLoaded(): boolean {
    return this.#tenantsLoaded;
  }

  /** By name. Every view asks for them after every tenant event, so the order is kept between calls. */
  tenants(): TenantView[] {
    this.#order ??= [...this.#tenants.values()].sort(compareTenants).map((tenant) => tenant.id);
    return this.#order.map((id) => this.#tenants.get(id) as TenantView);
  }

  get tenantCount(): number {
    return this.#tenants.size;
  }

  tenant(tenantId: string): TenantView | undefined {
    return this.#tenants.get(tenantId);
  }

  /**
   * A full listing (at connect and after every reconnect). Tenants not in it are gone; users read
   * before are dropped too, since changes may have been missed while the stream was down.
   */
  replaceTenants(tenants: readonly TenantView[]): void {
    const listed = new Set(tenants.map((tenant) => tenant.id));
    for (const id of [...this.#tenants.keys()]) {
      if (!listed.has(id)) this.#tenants.delete(id);
    }
    for (const tenant of tenants) this.#putTenant(tenant);
    this.#order = undefined;
    for (const users of this.#users.values()) this.#onDidChangeUsers.fire({ tenantId: users.tenantId });
    this.#users.clear();
    this.#tenantsLoaded = true;
    this.#onDidChangeTenants.fire({ tenantIds: undefined });
  }

  /** Forgets everything read: the daemon is gone or another one took its place. */
  clear(): void {
    this.setSession(undefined);
    this.#tenants.clear();
    this.#order = undefined;
    this.#users.clear();
    this.#tenantsLoaded = false;
    this.activity.replace([], this.activity.includeAutomated);
    this.#onDidChangeTenants.fire({ tenantIds: undefined });
    this.#onDidChangeActivity.fire();
  }

  /** A tenant as an action answered it (add, rotate, re-check) or as an event brought it. */
  applyTenant(tenant: TenantView): void {
    const before = this.#tenants.get(tenant.id);
    if (!this.#putTenant(tenant)) return;
    const inPlace = before !== undefined && before.displayName === tenant.displayName;
    if (!inPlace) this.#order = undefined;
    this.#onDidChangeTenants.fire({ tenantIds: inPlace ? [tenant.id] : undefined });
  }

  removeTenant(tenantId: string): void {
    if (!this.#tenants.delete(tenantId)) return;
    this.#order = undefined;
    this.#users.delete(tenantId);
    this.#onDidChangeTenants.fire({ tenantIds: undefined });
  }

  #putTenant(tenant: TenantView): boolean {
    const existing = this.#tenants.get(tenant.id);
    if (existing && tenantFreshness(tenant) < tenantFreshness(existing)) return false;
    this.#tenants.set(tenant.id, tenant);
    if (existing && existing.status !== 'DISCONNECTED' && tenant.status === 'DISCONNECTED') this.#onDidDisconnectTenant.fire(tenant);
    return true;
  }

  appProfilesChanged(): void {
    this.#onDidChangeAppProfiles.fire();
  }

  // ---- users -----------------------------------------------------------------------------------------

  /** The users read so far for a tenant (created empty on first ask; `loadMoreUsers` reads them). */
  users(tenantId: string): TenantUsers {
    let users = this.#users.get(tenantId);
    if (!users) {
      users = new TenantUsers(tenantId, this.#source, this.#pageSize);
      this.#users.set(tenantId, users);
    }
    return users;
  }

  async loadMoreUsers(tenantId: string): Promise<void> {
    const users = this.users(tenantId);
    const starting = !users.loading;
    const read = users.loadMore();
    // Fired as the read starts too, so that "Load more" turns into "Loading users…" while it runs.
    if (starting) this.#onDidChangeUsers.fire({ tenantId });
    try {
      await read;
    } finally {
      // Fired on failure too: the tree shows the error as a node with a retry.
      if (this.#users.get(tenantId) === users) this.#onDidChangeUsers.fire({ tenantId });
    }
  }

  /** A user as an action answered it, before the event stream confirms. */
  applyUser(tenantId: string, user: UserView): void {
    const users = this.#users.get(tenantId);
    if (users?.apply([user])) this.#onDidChangeUsers.fire({ tenantId });
  }

  /** Every user read so far, across tenants: what a user quick pick shows before the operator types. */
  cachedUsers(): Array<{ tenantId: string; user: UserView }> {
    return [...this.#users.values()].flatMap((users) => users.sorted().map((user) => ({ tenantId: users.tenantId, user })));
  }

  // ---- activity --------------------------------------------------------------------------------------

  replaceActivity(entries: readonly TaskListEntry[], includeAutomated: boolean): void {
    this.activity.replace(entries, includeAutomated);
    this.#onDidChangeActivity.fire();
  }

  // ---- busy rows -------------------------------------------------------------------------------------

  /** Marks a row (`tenant/<id>`, `user/<tenant>/<user>`) as busy with an action, e.g. "Locking…". */
  setBusy(key: string, label: string): void {
    this.#busy.set(key, label);
    this.#onDidChangeBusy.fire({ key });
  }

  clearBusy(key: string): void {
    if (this.#busy.delete(key)) this.#onDidChangeBusy.fire({ key });
  }

  busy(key: string): string | undefined {
    return this.#busy.get(key);
  }

  // ---- the event stream ------------------------------------------------------------------------------

  applyEvent(event: DaemonEvent): void {
    switch (event.type) {
      case 'tenant':
        this.applyTenant(event.tenant);
        return;
      case 'tenant-removed':
        this.removeTenant(event.tenantId);
        return;
      case 'users': {
        const users = this.#users.get(event.tenantId);
        if (users?.apply(event.users, event.removedUserIds)) this.#onDidChangeUsers.fire({ tenantId: event.tenantId });
        return;
      }
      case 'users-reloaded':
        // The users read so far are out of date as a whole: the tree reads the tenant's first page again.
        if (this.#users.delete(event.tenantId)) this.#onDidChangeUsers.fire({ tenantId: event.tenantId });
        return;
      case 'activity':
        if (this.activity.applyActivity(event.activity)) this.#onDidChangeActivity.fire();
        return;
      case 'task':
        if (this.activity.applyTask(event.task)) this.#onDidChangeActivity.fire();
        return;
      case 'log':
        this.#onDidReceiveLog.fire(event.entry);
        return;
      case 'consent':
        // The tenant a consent registers arrives as its own `tenant` event; onboarding views follow this one.
        this.#onDidReceiveConsent.fire(event.consent);
        return;
    }
  }
}
