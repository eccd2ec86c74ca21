import { randomBytes, randomUUID } from 'node:crypto';
import type { SimClock } from '../simClock';
import { certificateFromPem, type GraphRole, type SimApp, type SimSecret } from './simApp';
import type { SimServicePrincipal } from './simServicePrincipal';
import { SimTenant, type AuditEntry, type SimUser } from './simTenant';
import { defaultUserMix, generateUsers, type UserMix } from './userGenerator';

export const leastPrivilegeRoles: GraphRole[] = [
  'User.Read.All',
  'User.EnableDisableAccount.All',
  'User.RevokeSessions.All',
  'AuditLog.Read.All',
];

export interface AppSpec {
  appId?: string | undefined;
  displayName?: string | undefined;
  /** A given secret value; `null` registers no secret; absent generates one. */
  secret?: string | null | undefined;
  secretExpiresAt?: string | undefined;
  certificatePem?: string | undefined;
  roles?: GraphRole[] | undefined;
  consentGranted?: boolean | undefined;
  enabled?: boolean | undefined;
  hasServicePrincipal?: boolean | undefined;
  privilegedAdmin?: boolean | undefined;
  multiTenant?: boolean | undefined;
  redirectUris?: string[] | undefined;
}

export interface TenantSpec {
  id?: string | undefined;
  domain?: string | undefined;
  displayName?: string | undefined;
  users?: number | undefined;
  seed?: number | undefined;
  userMix?: Partial<UserMix> | undefined;
  app?: AppSpec | undefined;
}

/** Who made a change, for the audit log. */
export type Actor =
  | { kind: 'user'; userPrincipalName: string; displayName?: string | undefined }
  | { kind: 'app'; app: SimApp };

const dayMs = 24 * 60 * 60 * 1000;

export function generateSecretValue(): string {
  // Entra secrets are 40 characters with a `Q~` marker after a three-character hint.
  const body = randomBytes(40).toString('base64').replace(/[+/=]/g, '').slice(0, 35);
  return `${body.slice(0, 3)}8Q~${body.slice(3)}`;
}

/** Every simulated tenant, addressed by id or verified domain as the identity platform does. */
export class SimDirectory {
  private readonly tenants = new Map<string, SimTenant>();
  private readonly domains = new Map<string, SimTenant>();
  /** Multi-tenant apps by app id, with the tenant they are registered in. */
  private readonly multiTenantApps = new Map<string, { app: SimApp; home: SimTenant }>();
  private tenantSequence = 0;

  constructor(private readonly clock: SimClock) {}

  list(): SimTenant[] {
    return [...this.tenants.values()];
  }

  find(idOrDomain: string): SimTenant | undefined {
    const key = idOrDomain.toLowerCase();
    return this.tenants.get(key) ?? this.domains.get(key);
  }

  createTenant(spec: TenantSpec): { tenant: SimTenant; app: SimApp | null; secret: string | null } {
    const n = ++this.tenantSequence;
    const id = (spec.id ?? randomUUID()).toLowerCase();
    const domain = (spec.domain ?? `tenant${n}-${id.slice(0, 8)}.onmicrosoft.com`).toLowerCase();
    if (this.tenants.has(id)) throw new DirectoryError(`tenant ${id} exists already`);
    if (this.domains.has(domain)) throw new DirectoryError(`domain ${domain} is taken by another tenant`);
    const tenant = new SimTenant(id, domain, spec.displayName ?? domain.split('.')[0] ?? domain, this.isoNow());
    this.tenants.set(id, tenant);
    this.domains.set(domain, tenant);
    this.seedUsers(tenant, spec.users ?? 25, spec.seed ?? n, spec.userMix);
    if (spec.app === undefined) return { tenant, app: null, secret: null };
    const { app, secret } = this.addApp(tenant, spec.app);
    return { tenant, app, secret };
  }

  removeTenant(tenant: SimTenant): void {
    this.tenants.delete(tenant.id);
    this.domains.delete(tenant.domain);
    for (const app of tenant.apps.values()) this.setMultiTenant(tenant, app, false);
  }

  seedUsers(tenant: SimTenant, count: number, seed: number, mix?: Partial<UserMix>): SimUser[] {
    const users = generateUsers(tenant.domain, count, seed, tenant.users.length, this.isoNow(), {
      ...defaultUserMix,
      ...mix,
    });
    tenant.addUsers(users);
    return users;
  }

  addApp(tenant: SimTenant, spec: AppSpec): { app: SimApp; secret: string | null } {
    const appId = (spec.appId ?? randomUUID()).toLowerCase();
    if (tenant.findApp(appId)) throw new DirectoryError(`app ${appId} is registered in this tenant already`);
    const app: SimApp = {
      appId,
      objectId: randomUUID(),
      servicePrincipalId: randomUUID(),
      displayName: spec.displayName ?? 'm365-status',
      enabled: spec.enabled ?? true,
      hasServicePrincipal: spec.hasServicePrincipal ?? true,
      roles: spec.roles ?? [...leastPrivilegeRoles],
      consentGranted: spec.consentGranted ?? true,
      privilegedAdmin: spec.privilegedAdmin ?? false,
      multiTenant: false,
      redirectUris: spec.redirectUris ?? [],
      secrets: [],
      certificates: [],
    };
    if (spec.multiTenant) this.setMultiTenant(tenant, app, true);
    tenant.apps.set(appId, app);
    let secret: string | null = null;
    if (spec.secret !== null) {
      secret = this.addSecret(app, spec.secret ?? generateSecretValue(), spec.secretExpiresAt).value;
    }
    if (spec.certificatePem) this.addCertificate(app, spec.certificatePem);
    return { app, secret };
  }

  /** Marks an app multi-tenant (or not); one app id is multi-tenant in one home tenant only. */
  setMultiTenant(home: SimTenant, app: SimApp, multiTenant: boolean): void {
    const registered = this.multiTenantApps.get(app.appId);
    if (multiTenant) {
      if (registered && registered.app !== app) {
        throw new DirectoryError(`app ${app.appId} is multi-tenant in tenant ${registered.home.id} already`);
      }
      this.multiTenantApps.set(app.appId, { app, home });
    } else if (registered?.app === app) {
      this.multiTenantApps.delete(app.appId);
    }
    app.multiTenant = multiTenant;
  }

  /** A multi-tenant app registered in any tenant, with its home tenant. */
  multiTenantApp(appId: string): { app: SimApp; home: SimTenant } | undefined {
    return this.multiTenantApps.get(appId.toLowerCase());
  }

  /**
   * A multi-tenant app as it acts in a tenant that consented to it: its home registration's name and
   * credentials, with the service principal and the roles that tenant granted.
   */
  consentedApp(tenant: SimTenant, appId: string): SimApp | undefined {
    const registered = this.multiTenantApps.get(appId.toLowerCase());
    const servicePrincipal = tenant.servicePrincipals.get(appId.toLowerCase());
    if (!registered || !servicePrincipal) return undefined;
    return {
      ...registered.app,
      servicePrincipalId: servicePrincipal.id,
      hasServicePrincipal: true,
      roles: servicePrincipal.roles,
      consentGranted: true,
      privilegedAdmin: false,
    };
  }

  /**
   * Admin consent in `tenant` for a multi-tenant app: creates (or updates) its service principal with the
   * roles asked for, as far as the tenant grants them.
   */
  grantConsent(tenant: SimTenant, app: SimApp, roles: GraphRole[] = app.roles): SimServicePrincipal {
    const grantable = tenant.consentPolicy.grantableRoles;
    const granted = roles.filter((role) => grantable === null || grantable.includes(role));
    const existing = tenant.servicePrincipals.get(app.appId);
    const servicePrincipal: SimServicePrincipal = {
      id: existing?.id ?? randomUUID(),
      appId: app.appId,
      roles: [...new Set(granted)],
      createdDateTime: existing?.createdDateTime ?? this.isoNow(),
    };
    tenant.servicePrincipals.set(app.appId, servicePrincipal);
    return servicePrincipal;
  }

  addSecret(app: SimApp, value: string, expiresAt?: string): SimSecret {
    const now = this.clock.now();
    const secret: SimSecret = {
      keyId: randomUUID(),
      displayName: `secret ${app.secrets.length + 1}`,
      value,
      hint: value.slice(0, 3),
      startDateTime: new Date(now).toISOString(),
      endDateTime: expiresAt ?? new Date(now + 180 * dayMs).toISOString(),
    };
    app.secrets.push(secret);
    return secret;
  }

  addCertificate(app: SimApp, pem: string): void {
    app.certificates.push(certificateFromPem(pem, randomUUID(), `certificate ${app.certificates.length + 1}`));
  }

  /**
   * Sets `accountEnabled` the way a change in Entra ID does: the user shows up in delta, and the audit log
   * records who did it.
   */
  setAccountEnabled(tenant: SimTenant, user: SimUser, enabled: boolean, actor: Actor): boolean {
    const before = user.accountEnabled;
    const changed = tenant.updateUser(user, { accountEnabled: enabled });
    if (changed.length === 0) return false;
    this.recordAudit(tenant, user, actor, [
      { displayName: 'AccountEnabled', oldValue: `[${before}]`, newValue: `[${enabled}]` },
    ]);
    return true;
  }

  revokeSignInSessions(tenant: SimTenant, user: SimUser): void {
    tenant.updateUser(user, { signInSessionsValidFromDateTime: this.isoNow() });
  }

  private recordAudit(
    tenant: SimTenant,
    user: SimUser,
    actor: Actor,
    modifiedProperties: AuditEntry['targetResources'][number]['modifiedProperties'],
  ): void {
    const now = this.clock.now();
    tenant.audit.push({
      id: `Directory_${randomUUID()}`,
      category: 'UserManagement',
      correlationId: randomUUID(),
      result: 'success',
      resultReason: '',
      activityDisplayName: 'Update user',
      activityDateTime: new Date(now).toISOString(),
      loggedByService: 'Core Directory',
      operationType: 'Update',
      initiatedBy:
        actor.kind === 'user'
          ? {
              user: {
                id: randomUUID(),
                displayName: actor.displayName ?? null,
                userPrincipalName: actor.userPrincipalName,
                ipAddress: null,
              },
              app: null,
            }
          : {
              user: null,
              app: {
                appId: actor.app.appId,
                displayName: actor.app.displayName,
                servicePrincipalId: actor.app.servicePrincipalId,
                servicePrincipalName: actor.app.displayName,
              },
            },
      targetResources: [
        {
          id: user.id,
          displayName: null,
          type: 'User',
          userPrincipalName: user.userPrincipalName,
          modifiedProperties,
        },
      ],
      additionalDetails: [],
      visibleAt: now + tenant.auditDelayMs,
    });
  }

  private isoNow(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

/** A control-API request the directory cannot carry out, with the reason. */
export class DirectoryError extends Error {}
