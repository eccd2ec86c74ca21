import type { DelegatedAdminRelationship } from './delegatedAdminRelationship';
import type { SimApp } from './simApp';
import type { ConsentPolicy, SimServicePrincipal } from './simServicePrincipal';

export const userProperties = [
  'id',
  'userPrincipalName',
  'displayName',
  'givenName',
  'surname',
  'mail',
  'jobTitle',
  'department',
  'accountEnabled',
  'onPremisesSyncEnabled',
  'userType',
  'createdDateTime',
  'signInSessionsValidFromDateTime',
  'businessPhones',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
] as const;
export type UserProperty = (typeof userProperties)[number];

export interface SimUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  givenName: string;
  surname: string;
  mail: string;
  jobTitle: string | null;
  department: string | null;
  accountEnabled: boolean;
  onPremisesSyncEnabled: boolean | null;
  /** A privileged directory role: disabling this user needs an app with a higher role. */
  privilegedRole: string | null;
  userType: string;
  createdDateTime: string;
  signInSessionsValidFromDateTime: string;
  /** Tenant change version of the user's last change (delta tracking). */
  version: number;
  /** Tenant change version at which the user was created. */
  createdVersion: number;
  /** Version at which each property last changed, for `Prefer: return=minimal`. */
  propertyVersions: Partial<Record<UserProperty, number>>;
  deleted: { version: number; reason: 'deleted' | 'changed' } | null;
}

export interface AuditEntry {
  id: string;
  category: string;
  correlationId: string;
  result: 'success';
  resultReason: string;
  activityDisplayName: string;
  activityDateTime: string;
  loggedByService: string;
  operationType: string;
  initiatedBy: {
    user: { id: string; displayName: string | null; userPrincipalName: string; ipAddress: string | null } | null;
    app: { appId: string; displayName: string; servicePrincipalId: string; servicePrincipalName: string } | null;
  };
  targetResources: Array<{
    id: string;
    displayName: string | null;
    type: 'User';
    userPrincipalName: string;
    modifiedProperties: Array<{ displayName: string; oldValue: string; newValue: string }>;
  }>;
  additionalDetails: Array<{ key: string; value: string }>;
  /** When the entry becomes visible: audit ingestion takes minutes in Microsoft 365. */
  visibleAt: number;
}

export interface TenantFaults {
  /** Added to every Graph and token response for this tenant. */
  latencyMs: number;
  /** Share of Graph requests answered with a server error. */
  errorRate: number;
  errorStatus: 500 | 502 | 503 | 504;
  /** Share of Graph requests whose connection is reset before any answer. */
  resetRate: number;
  /** Share of Graph requests answered 200 with a truncated JSON body. */
  malformedRate: number;
  /** The token endpoint answers 503 for this tenant. */
  tokenOutage: boolean;
}

export const noFaults: TenantFaults = {
  latencyMs: 0,
  errorRate: 0,
  errorStatus: 503,
  resetRate: 0,
  malformedRate: 0,
  tokenOutage: false,
};

export interface ThrottlingSettings {
  enabled: boolean;
  /** Overrides the size-based resource-unit budget per 10 s. */
  resourceUnitsPer10s: number | null;
  /** Overrides the write budget per 150 s. */
  writesPer150s: number | null;
}

export interface TenantCounters {
  tokenRequests: number;
  graphRequests: number;
  throttled: number;
  faultsInjected: number;
  bytesServed: number;
  byOperation: Record<string, number>;
}

export function emptyCounters(): TenantCounters {
  return { tokenRequests: 0, graphRequests: 0, throttled: 0, faultsInjected: 0, bytesServed: 0, byOperation: {} };
}

export type DeltaInvalidation = 'syncStateNotFound' | 'resyncRequired';

/**
 * One directory: its users with the change history delta queries read, its app registrations, its audit
 * log, and the faults and throttling the simulator applies to it.
 */
export class SimTenant {
  /** Append-only: deleted users stay as tombstones so paging offsets and delta stay stable. */
  readonly users: SimUser[] = [];
  private readonly byId = new Map<string, SimUser>();
  private readonly byPrincipalName = new Map<string, SimUser>();
  /** Every change, in order: the user and the tenant version it got. */
  private readonly changeLog: Array<{ version: number; userId: string }> = [];
  version = 1;
  liveUserCount = 0;
  /** Delta tokens of an older generation are refused, as after Microsoft drops sync state. */
  deltaGeneration = 1;
  deltaInvalidation: DeltaInvalidation = 'syncStateNotFound';
  readonly apps = new Map<string, SimApp>();
  /** Other tenants' multi-tenant apps this tenant consented to, by app id. */
  readonly servicePrincipals = new Map<string, SimServicePrincipal>();
  consentPolicy: ConsentPolicy = { signedInUserIsAdmin: true, grantableRoles: null };
  /** As a partner: GDAP relationships with customer tenants, by customer tenant id. */
  readonly delegatedAdminRelationships = new Map<string, DelegatedAdminRelationship>();
  readonly audit: AuditEntry[] = [];
  auditDelayMs = 0;
  faults: TenantFaults = { ...noFaults };
  throttling: ThrottlingSettings = { enabled: true, resourceUnitsPer10s: null, writesPer150s: null };
  counters: TenantCounters = emptyCounters();

  constructor(
    readonly id: string,
    readonly domain: string,
    readonly displayName: string,
    readonly createdDateTime: string,
  ) {}

  addUsers(users: SimUser[]): void {
    for (const user of users) {
      user.version = this.version;
      user.createdVersion = this.version;
      this.users.push(user);
      this.byId.set(user.id, user);
      this.byPrincipalName.set(user.userPrincipalName.toLowerCase(), user);
      this.changeLog.push({ version: this.version, userId: user.id });
      this.liveUserCount++;
    }
    this.version++;
  }

  /** A live user by object id or userPrincipalName, as Graph resolves `/users/{id | userPrincipalName}`. */
  findUser(idOrPrincipalName: string): SimUser | undefined {
    const user = this.byId.get(idOrPrincipalName) ?? this.byPrincipalName.get(idOrPrincipalName.toLowerCase());
    return user && !user.deleted ? user : undefined;
  }

  /** Any user ever in the tenant, tombstones included. */
  userRecord(id: string): SimUser | undefined {
    return this.byId.get(id);
  }

  updateUser(user: SimUser, changes: Partial<Record<UserProperty, unknown>>): UserProperty[] {
    const changed: UserProperty[] = [];
    for (const [key, value] of Object.entries(changes) as Array<[UserProperty, unknown]>) {
      if ((user as unknown as Record<string, unknown>)[key] === value) continue;
      (user as unknown as Record<string, unknown>)[key] = value;
      user.propertyVersions[key] = this.version;
      changed.push(key);
    }
    if (changed.length > 0) this.recordChange(user);
    return changed;
  }

  /** Changes a user's sign-in name, keeping lookups by name right. */
  renameUser(user: SimUser, userPrincipalName: string): void {
    this.byPrincipalName.delete(user.userPrincipalName.toLowerCase());
    this.updateUser(user, { userPrincipalName, mail: userPrincipalName });
    this.byPrincipalName.set(userPrincipalName.toLowerCase(), user);
  }

  deleteUser(user: SimUser): void {
    user.deleted = { version: this.version, reason: 'deleted' };
    this.liveUserCount--;
    this.byPrincipalName.delete(user.userPrincipalName.toLowerCase());
    this.recordChange(user);
  }

  private recordChange(user: SimUser): void {
    user.version = this.version;
    this.changeLog.push({ version: this.version, userId: user.id });
    this.version++;
  }

  /**
   * Users changed after `sinceVersion` up to and including `untilVersion`, each once, in the order of
   * their last change.
   */
  changedUsers(sinceVersion: number, untilVersion: number): SimUser[] {
    let low = 0;
    let high = this.changeLog.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.changeLog[mid]?.version ?? 0) <= sinceVersion) low = mid + 1;
      else high = mid;
    }
    const seen = new Set<string>();
    const changed: SimUser[] = [];
    for (let i = this.changeLog.length - 1; i >= low; i--) {
      const entry = this.changeLog[i];
      if (!entry || entry.version > untilVersion || seen.has(entry.userId)) continue;
      seen.add(entry.userId);
      const user = this.byId.get(entry.userId);
      if (user) changed.push(user);
    }
    return changed.reverse();
  }

  /** Entries visible now, newest first. */
  visibleAudit(now: number): AuditEntry[] {
    return this.audit.filter((entry) => entry.visibleAt <= now).reverse();
  }

  findApp(appId: string): SimApp | undefined {
    return this.apps.get(appId.toLowerCase());
  }
}
