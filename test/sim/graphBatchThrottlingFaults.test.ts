import assert from 'node:assert/strict';
import type { GraphError } from '@microsoft/microsoft-graph-client';
import { fetch } from 'undici';
import { SimHarness } from '../support/simHarness';

describe('sim: Graph batching, throttling, faults and app details', () => {
  let harness: SimHarness;
  before(async () => {
    harness = await SimHarness.start();
  });
  after(async () => harness.stop());

  it('runs a $batch of PATCH requests with a status per request, and refuses 21 requests or duplicate ids', async () => {
    const tenant = await harness.createTenant({ users: 30, userMix: { privilegedShare: 0, disabledShare: 0 } });
    const client = harness.clientFor(tenant);
    const users = (await client.api('/users').select('id').top(3).get()).value as Array<{ id: string }>;
    const answer = await client.api('/$batch').post({
      requests: [
        ...users.map((u, i) => ({ id: String(i + 1), method: 'PATCH', url: `/users/${u.id}`, headers: { 'Content-Type': 'application/json' }, body: { accountEnabled: false } })),
        { id: '4', method: 'GET', url: '/users/00000000-0000-4000-8000-000000000000?$select=id' },
        { id: '5', method: 'GET', url: `/users/${users[0]?.id}?$select=accountEnabled`, dependsOn: ['1'] },
        { id: '6', method: 'GET', url: '/users?$select=id', dependsOn: ['4'] },
      ],
    });
    const byId = new Map((answer.responses as Array<{ id: string; status: number; body?: { accountEnabled?: boolean; error?: { code: string } } }>).map((r) => [r.id, r]));
    assert.deepEqual([1, 2, 3].map((i) => byId.get(String(i))?.status), [204, 204, 204]);
    assert.equal(byId.get('4')?.status, 404);
    assert.equal(byId.get('4')?.body?.error?.code, 'Request_ResourceNotFound');
    assert.equal(byId.get('5')?.body?.accountEnabled, false);
    assert.equal(byId.get('6')?.status, 424);
    for (const user of users) {
      assert.equal((await harness.control<{ accountEnabled: boolean }>('GET', `/tenants/${tenant.id}/users/${user.id}`)).body.accountEnabled, false);
    }
    const tooMany = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/organization' }));
    await assert.rejects(client.api('/$batch').post({ requests: tooMany }), (e: GraphError) => e.statusCode === 400);
    const duplicate = [
      { id: '1', method: 'GET', url: '/organization' },
      { id: '1', method: 'GET', url: '/organization' },
    ];
    await assert.rejects(client.api('/$batch').post({ requests: duplicate }), (e: GraphError) => e.statusCode === 400 && /unique/.test(e.message));
  });

  it('throttles past the app + tenant resource-unit budget with 429, a fractional Retry-After and the throttle headers', async () => {
    const tenant = await harness.createTenant({ users: 10 });
    await harness.control('PUT', `/tenants/${tenant.id}/throttling`, { resourceUnitsPer10s: 20 });
    const token = (await harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret }).acquire()).accessToken;
    const statuses: number[] = [];
    let throttled: Awaited<ReturnType<typeof fetch>> | undefined;
    let nearLimit: string | null = null;
    const started = Date.now();
    for (let i = 0; i < 30 && !throttled; i++) {
      const response = await fetch(`${harness.sim.url}/v1.0/users?$select=id`, { dispatcher: harness.dispatcher, headers: { authorization: `Bearer ${token}` } });
      statuses.push(response.status);
      assert.equal(response.headers.get('x-ms-resource-unit'), response.status === 200 ? '1' : null);
      nearLimit ??= response.headers.get('x-ms-throttle-limit-percentage');
      if (response.status === 429) throttled = response;
      else await response.arrayBuffer();
    }
    assert.ok(throttled, 'a 429 came');
    // The bucket refills continuously (20 units in 10 s): on a slow machine a unit may come back while the
    // budget is being spent, and not more than the time taken allows.
    const refilled = Math.floor(((Date.now() - started) / 10_000) * 20);
    const through = statuses.filter((s) => s === 200).length;
    assert.ok(through >= 20 && through <= 20 + refilled, `${through} requests went through, the budget 20 plus ${refilled} refilled`);
    assert.ok(nearLimit && Number(nearLimit) >= 0.8, 'the limit percentage was announced past 80%');
    assert.match(throttled.headers.get('retry-after') ?? '', /^\d+\.\d{3}$/);
    assert.equal(throttled.headers.get('x-ms-throttle-information'), 'ResourceUnitLimitExceeded');
    assert.equal(throttled.headers.get('x-ms-throttle-scope'), `Tenant_Application/Read/${tenant.app.appId}/${tenant.id}`);
    const body = (await throttled.json()) as { error: { code: string; innerError: { status: string } } };
    assert.equal(body.error.code, 'TooManyRequests');
    assert.equal(body.error.innerError.status, '429');
    // The budget refills with time.
    await harness.control('POST', '/clock', { advanceMs: 10_000 });
    const later = await fetch(`${harness.sim.url}/v1.0/users?$select=id`, { dispatcher: harness.dispatcher, headers: { authorization: `Bearer ${token}` } });
    assert.equal(later.status, 200);
    const counters = await harness.control<{ throttled: number; graphRequests: number }>('GET', `/tenants/${tenant.id}/counters`);
    assert.equal(counters.body.throttled, 1);
  });

  it('lets the Graph client wait out Retry-After and succeed', async () => {
    const tenant = await harness.createTenant({ users: 5 });
    await harness.control('PUT', `/tenants/${tenant.id}/throttling`, { resourceUnitsPer10s: 40 });
    const client = harness.clientFor(tenant, { maxRetries: 3, delaySeconds: 1 });
    // The budget refills with wall-clock time, so on a loaded machine 40 calls may not exhaust it: call
    // until the simulator has throttled one. Every call must still succeed, the throttled one by a retry.
    let throttled = 0;
    for (let i = 0; i < 400 && throttled === 0; i++) {
      const answer = await client.api('/organization').get();
      assert.equal(answer.value[0].id, tenant.id);
      if (i >= 39) throttled = (await harness.control<{ throttled: number }>('GET', `/tenants/${tenant.id}/counters`)).body.throttled;
    }
    assert.ok(throttled >= 1, 'a call was throttled, retried after Retry-After, and answered');
  });

  it('injects connection resets, server errors, malformed bodies and latency per tenant, and counts them', async () => {
    const tenant = await harness.createTenant({ users: 5 });
    const healthy = await harness.createTenant({ users: 5 });
    const client = harness.clientFor(tenant);
    await harness.control('PUT', `/tenants/${tenant.id}/faults`, { errorRate: 1, errorStatus: 500 });
    await assert.rejects(client.api('/organization').get(), (e: GraphError) => e.statusCode === 500 && e.code === 'generalException');
    await harness.control('PUT', `/tenants/${tenant.id}/faults`, { errorRate: 0, resetRate: 1 });
    await assert.rejects(client.api('/organization').get());
    await harness.control('PUT', `/tenants/${tenant.id}/faults`, { resetRate: 0, malformedRate: 1 });
    await assert.rejects(client.api('/organization').get(), (e: Error) => /JSON|Unexpected|Unterminated/i.test(`${e.message} ${(e as GraphError).body ?? ''}`));
    await harness.control('PUT', `/tenants/${tenant.id}/faults`, { malformedRate: 0, latencyMs: 300 });
    const started = Date.now();
    await client.api('/organization').get();
    assert.ok(Date.now() - started >= 300);
    const fast = Date.now();
    await harness.clientFor(healthy).api('/organization').get();
    assert.ok(Date.now() - fast < 300, 'another tenant is not slowed');
    const counters = await harness.control<{ faultsInjected: number; bytesServed: number; byOperation: Record<string, number> }>('GET', `/tenants/${tenant.id}/counters`);
    assert.equal(counters.body.faultsInjected, 3);
    assert.ok(counters.body.bytesServed > 0);
    assert.equal(counters.body.byOperation.organization, 2);
  });

  it('serves the app registration with secret end dates (never values) in its home tenant with Application.Read.All', async () => {
    const expires = new Date(Date.now() + 10 * 24 * 60 * 60 * 1000).toISOString();
    const tenant = await harness.createTenant({ app: { secretExpiresAt: expires, roles: ['User.Read.All', 'Application.Read.All'] } });
    const app = await harness.clientFor(tenant).api(`/applications(appId='${tenant.app.appId}')`).get();
    assert.equal(app.appId, tenant.app.appId);
    assert.equal(app.passwordCredentials[0].endDateTime, expires);
    assert.equal(app.passwordCredentials[0].secretText, null);
    assert.equal(app.passwordCredentials[0].hint, tenant.app.secret.slice(0, 3));
    assert.ok(!JSON.stringify(app).includes(tenant.app.secret));
    const without = await harness.createTenant();
    await assert.rejects(
      harness.clientFor(without).api(`/applications(appId='${without.app.appId}')`).get(),
      (e: GraphError) => e.statusCode === 403,
    );
  });

  it('shows audit entries only after the tenant\'s ingestion delay, and needs AuditLog.Read.All', async () => {
    const tenant = await harness.createTenant({ users: 3 });
    await harness.control('PUT', `/tenants/${tenant.id}/audit`, { delayMs: 5 * 60_000 });
    const user = (await harness.clientFor(tenant).api('/users').select('id').top(1).get()).value[0];
    await harness.control('PATCH', `/tenants/${tenant.id}/users/${user.id}`, { accountEnabled: false, actor: { userPrincipalName: 'secops@example.com' } });
    const client = harness.clientFor(tenant);
    assert.equal((await client.api('/auditLogs/directoryAudits').get()).value.length, 0);
    await harness.control('POST', '/clock', { advanceMs: 5 * 60_000 });
    const later = harness.clientFor(tenant);
    const audit = await later.api('/auditLogs/directoryAudits').filter("activityDisplayName eq 'Update user'").get();
    assert.equal(audit.value.length, 1);
    assert.equal(audit.value[0].initiatedBy.user.userPrincipalName, 'secops@example.com');
    const noAudit = await harness.createTenant({ app: { roles: ['User.Read.All'] } });
    await assert.rejects(harness.clientFor(noAudit).api('/auditLogs/directoryAudits').get(), (e: GraphError) => e.statusCode === 403);
  });
});
