import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { DirectoryError, generateSecretValue, type SimDirectory } from '../directory/simDirectory';
import type { DelegatedAdminRelationship } from '../directory/delegatedAdminRelationship';
import type { SimApp } from '../directory/simApp';
import { emptyCounters, type SimTenant, type SimUser } from '../directory/simTenant';
import { json, type SimRequest, type SimResponse } from '../http/simExchange';
import type { SimClock } from '../simClock';
import {
  addCertificateSchema,
  addSecretSchema,
  addUserSchema,
  advanceClockSchema,
  appChangeSchema,
  appSpecSchema,
  auditSettingsSchema,
  consentPolicySchema,
  delegatedAdminRelationshipChangeSchema,
  delegatedAdminRelationshipSchema,
  faultsSchema,
  grantConsentSchema,
  invalidateDeltaSchema,
  outOfBandChangeSchema,
  seedUsersSchema,
  tenantSpecSchema,
  throttlingSchema,
} from './controlSchemas';

class ControlFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function parse<S extends z.ZodType>(schema: S, request: SimRequest): z.infer<S> {
  let raw: unknown = {};
  if (request.body.length > 0) {
    // A body of another type is refused rather than read, so a form post cannot set up a tenant.
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      throw new ControlFailure(415, 'unsupported_media_type', 'the control API takes JSON bodies: send Content-Type: application/json', 'content-type');
    }
    try {
      raw = JSON.parse(request.body.toString('utf8'));
    } catch {
      throw new ControlFailure(400, 'invalid_json', 'the request body is not valid JSON');
    }
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join('.') || undefined;
    throw new ControlFailure(400, 'invalid_request', `${field ? `${field}: ` : ''}${issue?.message ?? 'invalid'}`, field);
  }
  return result.data;
}

export function tenantSummary(tenant: SimTenant) {
  return {
    id: tenant.id,
    domain: tenant.domain,
    displayName: tenant.displayName,
    users: tenant.liveUserCount,
    apps: [...tenant.apps.values()].map(appSummary),
    faults: tenant.faults,
    throttling: tenant.throttling,
    auditDelayMs: tenant.auditDelayMs,
    consentPolicy: tenant.consentPolicy,
    servicePrincipals: [...tenant.servicePrincipals.values()],
    delegatedAdminRelationships: [...tenant.delegatedAdminRelationships.values()],
  };
}

function appSummary(app: SimApp) {
  return {
    appId: app.appId,
    displayName: app.displayName,
    enabled: app.enabled,
    hasServicePrincipal: app.hasServicePrincipal,
    roles: app.roles,
    consentGranted: app.consentGranted,
    privilegedAdmin: app.privilegedAdmin,
    multiTenant: app.multiTenant,
    redirectUris: app.redirectUris,
    secrets: app.secrets.map(({ value: _value, ...rest }) => rest),
    certificates: app.certificates.map((c) => ({ keyId: c.keyId, thumbprint: c.thumbprintHex, endDateTime: c.endDateTime })),
  };
}

function userDetail(user: SimUser) {
  const { propertyVersions: _versions, version: _version, createdVersion: _created, ...rest } = user;
  return rest;
}

type Handler = (request: SimRequest, params: string[]) => SimResponse | Promise<SimResponse>;

/**
 * The simulator's own API under `/_sim/`, for tests, demos and benchmarks: tenants, users, apps and
 * their credentials, out-of-band changes, faults, throttling, the clock and the counters.
 */
export class ControlApi {
  private readonly routes: Array<{ method: string; pattern: RegExp; handler: Handler }> = [];

  constructor(
    private readonly directory: SimDirectory,
    private readonly clock: SimClock,
    private readonly caPem: string,
  ) {
    const route = (method: string, path: string, handler: Handler) => {
      const pattern = new RegExp(`^/_sim${path.replace(/:[a-z]+/gi, '([^/]+)')}$`);
      this.routes.push({ method, pattern, handler });
    };
    route('GET', '/health', () => {
      const memory = process.memoryUsage();
      return json(200, {
        ok: true,
        tenants: this.directory.list().length,
        users: this.directory.list().reduce((sum, t) => sum + t.liveUserCount, 0),
        now: this.clock.date().toISOString(),
        memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
      });
    });
    route('GET', '/ca.pem', () => ({ status: 200, headers: { 'content-type': 'application/x-pem-file' }, body: this.caPem }));
    route('GET', '/clock', () => json(200, { now: this.clock.date().toISOString() }));
    route('POST', '/clock', (r) => {
      this.clock.advance(parse(advanceClockSchema, r).advanceMs);
      return json(200, { now: this.clock.date().toISOString() });
    });
    route('GET', '/tenants', () => json(200, { value: this.directory.list().map(tenantSummary) }));
    route('POST', '/tenants', (r) => {
      const { tenant, app, secret } = this.directory.createTenant(parse(tenantSpecSchema, r));
      return json(201, { ...tenantSummary(tenant), app: app ? { appId: app.appId, secret } : null });
    });
    route('GET', '/tenants/:t', (_r, [t]) => json(200, tenantSummary(this.tenant(t))));
    route('DELETE', '/tenants/:t', (_r, [t]) => {
      this.directory.removeTenant(this.tenant(t));
      return { status: 204 };
    });
    route('POST', '/tenants/:t/users', (r, [t]) => {
      const tenant = this.tenant(t);
      const raw = parse(seedUsersSchema.or(addUserSchema), r);
      if ('count' in raw) {
        const users = this.directory.seedUsers(tenant, raw.count, raw.seed ?? tenant.users.length + 1, raw.userMix);
        return json(201, { created: users.length, users: users.slice(0, 1000).map(userDetail) });
      }
      const [user] = this.directory.seedUsers(tenant, 1, tenant.users.length + 7, { hostileShare: 0, privilegedShare: 0 });
      if (!user) throw new ControlFailure(500, 'internal', 'no user generated');
      if (raw.userPrincipalName && tenant.findUser(raw.userPrincipalName)) {
        throw new ControlFailure(409, 'conflict', `${raw.userPrincipalName} exists already`, 'userPrincipalName');
      }
      tenant.updateUser(user, {
        displayName: raw.displayName,
        accountEnabled: raw.accountEnabled ?? true,
        onPremisesSyncEnabled: raw.onPremisesSyncEnabled ? true : null,
      });
      if (raw.userPrincipalName) tenant.renameUser(user, raw.userPrincipalName);
      user.privilegedRole = raw.privilegedRole ?? null;
      return json(201, userDetail(user));
    });
    route('GET', '/tenants/:t/users/:u', (_r, [t, u]) => json(200, userDetail(this.user(this.tenant(t), u))));
    route('PATCH', '/tenants/:t/users/:u', (r, [t, u]) => {
      const tenant = this.tenant(t);
      const user = this.user(tenant, u);
      const change = parse(outOfBandChangeSchema, r);
      const actor = {
        kind: 'user' as const,
        userPrincipalName: change.actor?.userPrincipalName ?? `admin@${tenant.domain}`,
        displayName: change.actor?.displayName ?? 'Tenant Administrator',
      };
      if (change.accountEnabled !== undefined) this.directory.setAccountEnabled(tenant, user, change.accountEnabled, actor);
      if (change.displayName !== undefined) tenant.updateUser(user, { displayName: change.displayName });
      return json(200, userDetail(user));
    });
    route('DELETE', '/tenants/:t/users/:u', (_r, [t, u]) => {
      const tenant = this.tenant(t);
      tenant.deleteUser(this.user(tenant, u));
      return { status: 204 };
    });
    route('POST', '/tenants/:t/apps', (r, [t]) => {
      const { app, secret } = this.directory.addApp(this.tenant(t), parse(appSpecSchema, r));
      return json(201, { ...appSummary(app), secret });
    });
    route('PATCH', '/tenants/:t/apps/:a', (r, [t, a]) => {
      const tenant = this.tenant(t);
      const app = this.app(tenant, a);
      const { multiTenant, ...change } = parse(appChangeSchema, r);
      if (multiTenant !== undefined) this.directory.setMultiTenant(tenant, app, multiTenant);
      Object.assign(app, withoutUndefined(change));
      return json(200, appSummary(app));
    });
    route('POST', '/tenants/:t/apps/:a/secrets', (r, [t, a]) => {
      const app = this.app(this.tenant(t), a);
      const spec = parse(addSecretSchema, r);
      if (spec.replaceExisting) app.secrets = [];
      const { value: _v, ...secret } = this.directory.addSecret(app, spec.value ?? generateSecretValue(), spec.expiresAt);
      return json(201, { ...secret, secret: app.secrets.at(-1)?.value });
    });
    route('POST', '/tenants/:t/apps/:a/secrets/expire', (_r, [t, a]) => {
      const app = this.app(this.tenant(t), a);
      const past = new Date(this.clock.now() - 1000).toISOString();
      for (const secret of app.secrets) secret.endDateTime = past;
      return json(200, appSummary(app));
    });
    route('DELETE', '/tenants/:t/apps/:a/secrets', (_r, [t, a]) => {
      this.app(this.tenant(t), a).secrets = [];
      return { status: 204 };
    });
    route('POST', '/tenants/:t/apps/:a/certificates', (r, [t, a]) => {
      const app = this.app(this.tenant(t), a);
      try {
        this.directory.addCertificate(app, parse(addCertificateSchema, r).pem);
      } catch (error) {
        if (error instanceof ControlFailure) throw error;
        throw new ControlFailure(400, 'invalid_request', 'pem: not a readable X.509 certificate', 'pem');
      }
      return json(201, appSummary(app));
    });
    route('PUT', '/tenants/:t/consent', (r, [t]) => {
      const tenant = this.tenant(t);
      tenant.consentPolicy = { ...tenant.consentPolicy, ...withoutUndefined(parse(consentPolicySchema, r)) };
      return json(200, tenant.consentPolicy);
    });
    route('GET', '/tenants/:t/servicePrincipals', (_r, [t]) => json(200, { value: [...this.tenant(t).servicePrincipals.values()] }));
    route('POST', '/tenants/:t/servicePrincipals', (r, [t]) => {
      const tenant = this.tenant(t);
      const spec = parse(grantConsentSchema, r);
      const registered = this.directory.multiTenantApp(spec.appId);
      if (!registered) throw new ControlFailure(404, 'app_not_found', `appId: no multi-tenant app ${spec.appId}`, 'appId');
      if (registered.home === tenant) {
        throw new ControlFailure(400, 'invalid_request', `appId: ${spec.appId} is registered in this tenant; set consentGranted on the app instead`, 'appId');
      }
      return json(201, this.directory.grantConsent(tenant, registered.app, spec.roles));
    });
    route('DELETE', '/tenants/:t/servicePrincipals/:a', (_r, [t, a]) => {
      const tenant = this.tenant(t);
      if (!tenant.servicePrincipals.delete((a ?? '').toLowerCase())) {
        throw new ControlFailure(404, 'service_principal_not_found', `no service principal for app ${a ?? ''} in ${tenant.domain}`);
      }
      return { status: 204 };
    });
    route('GET', '/tenants/:t/customers', (_r, [t]) => json(200, { value: [...this.tenant(t).delegatedAdminRelationships.values()] }));
    route('POST', '/tenants/:t/customers', (r, [t]) => {
      const partner = this.tenant(t);
      const spec = parse(delegatedAdminRelationshipSchema, r);
      const tenantId = spec.tenantId.toLowerCase();
      if (tenantId === partner.id) throw new ControlFailure(400, 'invalid_request', 'tenantId: a partner is not its own customer', 'tenantId');
      const displayName = spec.displayName ?? this.directory.find(tenantId)?.displayName;
      if (displayName === undefined) {
        throw new ControlFailure(400, 'invalid_request', 'displayName: required for a customer tenant the simulator does not have', 'displayName');
      }
      const existing = partner.delegatedAdminRelationships.get(tenantId);
      const relationship = { tenantId, displayName, active: spec.active ?? true, etag: existing?.etag ?? newEtag() };
      partner.delegatedAdminRelationships.set(tenantId, relationship);
      return json(existing ? 200 : 201, relationship);
    });
    route('PATCH', '/tenants/:t/customers/:c', (r, [t, c]) => {
      const relationship = this.relationship(this.tenant(t), c);
      relationship.active = parse(delegatedAdminRelationshipChangeSchema, r).active;
      relationship.etag = newEtag();
      return json(200, relationship);
    });
    route('DELETE', '/tenants/:t/customers/:c', (_r, [t, c]) => {
      const partner = this.tenant(t);
      partner.delegatedAdminRelationships.delete(this.relationship(partner, c).tenantId);
      return { status: 204 };
    });
    route('PUT', '/tenants/:t/faults', (r, [t]) => {
      const tenant = this.tenant(t);
      tenant.faults = { ...tenant.faults, ...withoutUndefined(parse(faultsSchema, r)) };
      return json(200, tenant.faults);
    });
    route('PUT', '/tenants/:t/throttling', (r, [t]) => {
      const tenant = this.tenant(t);
      tenant.throttling = { ...tenant.throttling, ...withoutUndefined(parse(throttlingSchema, r)) };
      return json(200, tenant.throttling);
    });
    route('PUT', '/tenants/:t/audit', (r, [t]) => {
      const tenant = this.tenant(t);
      tenant.auditDelayMs = parse(auditSettingsSchema, r).delayMs;
      return json(200, { delayMs: tenant.auditDelayMs });
    });
    route('POST', '/tenants/:t/delta/invalidate', (r, [t]) => {
      const tenant = this.tenant(t);
      tenant.deltaInvalidation = parse(invalidateDeltaSchema, r).mode ?? 'syncStateNotFound';
      tenant.deltaGeneration++;
      return json(200, { generation: tenant.deltaGeneration, mode: tenant.deltaInvalidation });
    });
    route('GET', '/tenants/:t/counters', (_r, [t]) => json(200, this.tenant(t).counters));
    route('DELETE', '/tenants/:t/counters', (_r, [t]) => {
      this.tenant(t).counters = emptyCounters();
      return { status: 204 };
    });
  }

  async handle(request: SimRequest): Promise<SimResponse> {
    try {
      const candidates = this.routes.filter((r) => r.pattern.test(request.path));
      const route = candidates.find((r) => r.method === request.method);
      if (!route) {
        if (candidates.length > 0) throw new ControlFailure(405, 'method_not_allowed', `${request.method} is not allowed on ${request.path}`);
        throw new ControlFailure(404, 'not_found', `no control route ${request.method} ${request.path}`);
      }
      const params = (request.path.match(route.pattern) ?? []).slice(1).map((p) => decodeURIComponent(p));
      return await route.handler(request, params);
    } catch (error) {
      if (error instanceof ControlFailure) {
        return json(error.status, { error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } });
      }
      if (error instanceof DirectoryError) return json(409, { error: { code: 'conflict', message: error.message } });
      throw error;
    }
  }

  private tenant(idOrDomain: string | undefined): SimTenant {
    const tenant = this.directory.find(idOrDomain ?? '');
    if (!tenant) throw new ControlFailure(404, 'tenant_not_found', `no tenant ${idOrDomain ?? ''}`);
    return tenant;
  }

  private user(tenant: SimTenant, idOrPrincipalName: string | undefined): SimUser {
    const user = tenant.findUser(idOrPrincipalName ?? '');
    if (!user) throw new ControlFailure(404, 'user_not_found', `no user ${idOrPrincipalName ?? ''} in ${tenant.domain}`);
    return user;
  }

  private relationship(partner: SimTenant, tenantId: string | undefined): DelegatedAdminRelationship {
    const relationship = partner.delegatedAdminRelationships.get((tenantId ?? '').toLowerCase());
    if (!relationship) throw new ControlFailure(404, 'customer_not_found', `${partner.domain} has no relationship with customer ${tenantId ?? ''}`);
    return relationship;
  }

  private app(tenant: SimTenant, appId: string | undefined): SimApp {
    const app = tenant.findApp(appId ?? '');
    if (!app) throw new ControlFailure(404, 'app_not_found', `no app ${appId ?? ''} in ${tenant.domain}`);
    return app;
  }
}

/** A weak etag in Graph's form: base64 of a quoted version. */
function newEtag(): string {
  return `W/"${Buffer.from(`'${randomBytes(12).toString('hex')}'`).toString('base64')}"`;
}

function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
