import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { LIMITS, type TaskListEntry, type TenantView, type UserPage } from '../../../protocol/daemonApi';
import { API_ROUTE_SHAPES, type ApiRouteShape } from '../../../daemon/server/apiRouteShapes';
import { loopbackHostRule } from '../../../daemon/server/apiSecurity';
import { ForegroundRequests } from '../../../daemon/foregroundRequests';
import { createDaemonApp } from '../../../daemon/server/daemonApp';
import { localAuthentication } from '../../../daemon/server/localAuthentication';
import type { DaemonServices } from '../../../daemon/server/daemonServices';
import { createLogger } from '../../../daemon/logging/logger';
import { DaemonHarness } from '../../support/daemonHarness';

interface RawAnswer {
  status: number;
  body: { error?: { code: string; message: string; details?: { field?: string } } } & Record<string, unknown>;
}

/** Any method, any headers, any body bytes: fetch would refuse a GET with a body. */
function send(harness: DaemonHarness, method: string, path: string, options: { body?: string; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      host: `127.0.0.1:${harness.daemon.port}`,
      authorization: `Bearer ${harness.daemon.token}`,
      ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }),
      ...options.headers,
    };
    const request = httpRequest({ host: '127.0.0.1', port: harness.daemon.port, method, path, headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text ? (JSON.parse(text) as RawAnswer['body']) : {} }));
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

const builtInNames = ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'];

describe('daemon API: request shape (content type, bodies, identifiers) on every route', function () {
  this.timeout(60_000);
  let harness: DaemonHarness;
  let tenantId: string;
  let userId: string;
  let unknownTenantId: string;
  /** Each route with its placeholders filled in for a real tenant and user. */
  let profileId: string;
  const pathOf = (shape: ApiRouteShape, ids: { id?: string; userId?: string; profileId?: string } = {}): string =>
    shape.path
      .replace(':id', encodeURIComponent(ids.id ?? tenantId))
      .replace(':userId', encodeURIComponent(ids.userId ?? userId))
      .replace(':profileId', encodeURIComponent(ids.profileId ?? profileId))
      .replace(':state', 'A'.repeat(32))
      .replace('\\:', ':');

  /** What must stay as it was after a refusal: tenants, users, activities and tasks, and the simulator's user. */
  async function snapshot(): Promise<string> {
    const tenants = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants.map(({ credentialHealth: _h, ...rest }) => rest);
    const users = (await harness.api<UserPage>('GET', `/v1/tenants/${tenantId}/users?limit=1000`)).body.users;
    const tasks = (await harness.api<{ entries: TaskListEntry[] }>('GET', '/v1/tasks?automated=true')).body.entries;
    const simUser = (await harness.sim.control<{ accountEnabled: boolean }>('GET', `/tenants/${registeredSimTenant}/users/${userId}`)).body;
    assert.equal(typeof simUser.accountEnabled, 'boolean', JSON.stringify(simUser));
    return JSON.stringify({ tenants, users, tasks, simUser });
  }
  let registeredSimTenant = '';

  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '1h' });
    const registered = await harness.registerTenant({ users: 6, userMix: { onPremisesShare: 0, disabledShare: 0, privilegedShare: 0 } });
    tenantId = registered.id;
    registeredSimTenant = registered.sim.id;
    await harness.daemon.whenIdle();
    const page = await harness.api<UserPage>('GET', `/v1/tenants/${tenantId}/users?state=enabled`);
    const first = page.body.users[0];
    if (!first) throw new Error('the tenant has no enabled user');
    userId = first.id;
    unknownTenantId = '00000000-0000-4000-8000-000000000000';
    const profile = await harness.api<{ id: string }>('POST', '/v1/app-profiles', {
      name: 'Partner app',
      partnerTenant: registered.sim.id,
      appId: registered.sim.app.appId,
      credential: { kind: 'secret', clientSecret: registered.sim.app.secret },
    });
    if (profile.status !== 201) throw new Error(`adding an app profile answered ${profile.status}`);
    profileId = profile.body.id;
  });
  after(async () => harness.stop());

  it('knows the shape of every route the app serves', () => {
    const services = { version: 'test' } as unknown as DaemonServices;
    const app = createDaemonApp({ services, sinks: { logger: createLogger({ write: () => undefined }) }, authentication: localAuthentication('t', 'operator'), hosts: loopbackHostRule(() => 0), trackStream: () => () => undefined, foregroundRequests: new ForegroundRequests() });
    type Layer = { name: string; route?: { path: string; methods: Record<string, boolean> }; handle: { stack?: Layer[] } };
    const served: string[] = [];
    const walk = (stack: Layer[], prefix: string): void => {
      for (const layer of stack) {
        if (layer.route) for (const method of Object.keys(layer.route.methods)) served.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
        else if (layer.name === 'router' && Array.isArray(layer.handle.stack)) walk(layer.handle.stack, '/v1');
      }
    };
    walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
    assert.ok(served.length >= 10, `found the app's routes (${served.length})`);
    assert.deepEqual(served.sort(), API_ROUTE_SHAPES.map((shape) => `${shape.method} ${shape.path}`).sort());
  });

  it('refuses a body that is not application/json with 415 on every route that takes one, naming the type, and changes nothing', async () => {
    const before = await snapshot();
    const bodyRoutes = API_ROUTE_SHAPES.filter((shape) => shape.body !== 'none');
    assert.ok(bodyRoutes.length >= 4);
    for (const shape of bodyRoutes) {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/merge-patch+json', '']) {
        const answer = await send(harness, shape.method, pathOf(shape), {
          body: '{"revokeSessions":true}',
          headers: type ? { 'content-type': type } : {},
        });
        assert.equal(answer.status, 415, `${shape.method} ${shape.path} with ${type || 'no content type'}`);
        assert.equal(answer.body.error?.code, 'UNSUPPORTED_MEDIA_TYPE');
        assert.match(answer.body.error?.message ?? '', /application\/json/);
      }
    }
    assert.equal(await snapshot(), before);
  });

  it('does not lock a user (nor revoke sessions) from a text/plain lock', async () => {
    const lock = await send(harness, 'POST', `/v1/tenants/${tenantId}/users/${userId}/lock`, { body: '{"revokeSessions":true}', headers: { 'content-type': 'text/plain' } });
    assert.equal(lock.status, 415);
    const simUser = await harness.sim.control<{ accountEnabled: boolean }>('GET', `/tenants/${registeredSimTenant}/users/${userId}`);
    assert.equal(simUser.body.accountEnabled, true);
    const counters = await harness.sim.control<{ byOperation: Record<string, number> }>('GET', `/tenants/${registeredSimTenant}/counters`);
    assert.equal(Object.keys(counters.body.byOperation).filter((operation) => /revoke|update|patch/i.test(operation)).length, 0, JSON.stringify(counters.body.byOperation));
  });

  it('needs a JSON body where one is required, and takes none where the body is optional', async () => {
    for (const shape of API_ROUTE_SHAPES.filter((s) => s.body === 'json')) {
      const answer = await send(harness, shape.method, pathOf(shape));
      assert.equal(answer.status, 415, `${shape.method} ${shape.path} without a body`);
    }
    const unlock = await send(harness, 'POST', `/v1/tenants/${tenantId}/users/${userId}/unlock`);
    assert.equal(unlock.status, 200, JSON.stringify(unlock.body));
  });

  it('refuses a body on every route that takes none, naming it, and changes nothing', async () => {
    const before = await snapshot();
    const noBodyRoutes = API_ROUTE_SHAPES.filter((shape) => shape.body === 'none');
    assert.ok(noBodyRoutes.length >= 9);
    for (const shape of noBodyRoutes) {
      for (const [type, body] of [
        ['application/json', '{"revokeSessions":true}'],
        ['text/plain', 'hello'],
        ['application/json', '[]'],
      ] as const) {
        const answer = await send(harness, shape.method, pathOf(shape), { body, headers: { 'content-type': type } });
        assert.equal(answer.status, 400, `${shape.method} ${shape.path} with ${type} ${body}`);
        assert.equal(answer.body.error?.code, 'BODY_NOT_ACCEPTED');
        assert.equal(answer.body.error?.details?.field, 'body');
        assert.match(answer.body.error?.message ?? '', /takes no request body/);
      }
    }
    assert.equal(await snapshot(), before);
    assert.equal((await harness.api('GET', `/v1/tenants/${tenantId}`)).status, 200, 'a DELETE with a body removed nothing');
  });

  it('takes an empty JSON object where no body is needed, as the extension sends it', async () => {
    const answer = await send(harness, 'POST', `/v1/tenants/${tenantId}/credential-health`, { body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  });

  it('answers 404 naming the id for a tenant id that is not a UUID, on every route with one', async () => {
    const badIds = [...builtInNames, 'nope', 'x'.repeat(10_000), '../tenants', unknownTenantId.toUpperCase().replace('0', 'G')];
    for (const shape of API_ROUTE_SHAPES.filter((s) => s.path.includes(':id'))) {
      for (const id of badIds) {
        const answer = await send(harness, shape.method, pathOf(shape, { id }), shape.body === 'json' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {});
        assert.equal(answer.status, 404, `${shape.method} ${shape.path} with id ${id.slice(0, 20)}`);
        assert.equal(answer.body.error?.code, 'TENANT_NOT_FOUND');
        assert.equal(answer.body.error?.details?.field, 'id');
        assert.ok(!JSON.stringify(answer.body).includes('xxxxxxxxxx'), 'the id is not echoed');
      }
      const unknown = await send(harness, shape.method, pathOf(shape, { id: unknownTenantId }), shape.body === 'json' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {});
      assert.ok([400, 404].includes(unknown.status), `${shape.method} ${shape.path} with an unknown tenant: ${unknown.status}`);
    }
  });

  it('answers 404 naming the profile for an app profile id that is not a UUID, on every route with one', async () => {
    for (const shape of API_ROUTE_SHAPES.filter((s) => s.path.includes(':profileId'))) {
      for (const id of [...builtInNames, 'nope', 'x'.repeat(10_000)]) {
        const answer = await send(harness, shape.method, pathOf(shape, { profileId: id }), shape.body === 'json' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {});
        assert.equal(answer.status, 404, `${shape.method} ${shape.path} with id ${id.slice(0, 20)}`);
        assert.equal(answer.body.error?.code, 'APP_PROFILE_NOT_FOUND');
        assert.ok(!JSON.stringify(answer.body).includes('xxxxxxxxxx'), 'the id is not echoed');
      }
    }
  });

  it('answers 400 naming userId for a user id that is neither a GUID nor a user principal name of at most 113 characters', async () => {
    const local = 'a'.repeat(64);
    const tooLong = `${local}@${'b'.repeat(45)}.com`;
    assert.equal(tooLong.length, LIMITS.userPrincipalNameMaxLength + 1);
    for (const shape of API_ROUTE_SHAPES.filter((s) => s.path.includes(':userId'))) {
      for (const bad of [...builtInNames, tooLong, 'no-such-user', 'a@b', `${'a'.repeat(65)}@contoso.com`, 'x'.repeat(10_000)]) {
        const answer = await send(harness, shape.method, pathOf(shape, { userId: bad }));
        assert.equal(answer.status, 400, `${shape.method} ${shape.path} with ${bad.slice(0, 20)}`);
        assert.equal(answer.body.error?.details?.field, 'userId');
      }
      const longestValid = `${local}@${'b'.repeat(44)}.com`;
      const unknown = await send(harness, shape.method, pathOf(shape, { userId: longestValid }));
      assert.equal(unknown.status, 404, `a well-formed unknown user: ${JSON.stringify(unknown.body)}`);
    }
  });

  it('answers 400, not a server error, for a path whose percent-encoding is malformed, on every route with an id', async () => {
    const malformed = '%E0%A4%A';
    for (const shape of API_ROUTE_SHAPES.filter((s) => s.path.includes(':id') || s.path.includes(':userId'))) {
      for (const path of [shape.path.replace(':id', malformed).replace(':userId', userId), shape.path.replace(':id', tenantId).replace(':userId', malformed)]) {
        if (path === shape.path.replace(':id', tenantId).replace(':userId', userId)) continue;
        const answer = await send(harness, shape.method, path, shape.body === 'json' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {});
        assert.ok(answer.status === 400 || answer.status === 404, `${shape.method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
        assert.ok(!JSON.stringify(answer.body).includes(malformed), 'the malformed value is not echoed');
      }
    }
  });

  it('bounds every field of a tenant registration and rotation, naming the field', async () => {
    const before = await snapshot();
    const valid = { tenant: 'contoso.onmicrosoft.com', appId: '6e0b3c8a-1f59-4d43-9d1e-2b7f1c3a9e11', credential: { kind: 'secret', clientSecret: 'x' } };
    const label63 = 'a'.repeat(63);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...valid, tenant: `${'a'.repeat(10_000)}.example.com` }, 'tenant'],
      [{ ...valid, tenant: `${'a'.repeat(64)}.onmicrosoft.com` }, 'tenant'],
      [{ ...valid, tenant: `${[label63, label63, label63, label63].join('.')}.com` }, 'tenant'],
      [{ ...valid, tenant: '-contoso.onmicrosoft.com' }, 'tenant'],
      [{ ...valid, tenant: 'contoso-.onmicrosoft.com' }, 'tenant'],
      [{ ...valid, tenant: 'con_toso.onmicrosoft.com' }, 'tenant'],
      [{ ...valid, tenant: 'constructor' }, 'tenant'],
      [{ ...valid, appId: '__proto__' }, 'appId'],
      [{ ...valid, appId: `6e0b3c8a-1f59-4d43-9d1e-2b7f1c3a9e11${'1'.repeat(5000)}` }, 'appId'],
      [{ ...valid, displayName: 'd'.repeat(LIMITS.displayNameMaxLength + 1) }, 'displayName'],
      [{ ...valid, credential: { kind: 'secret', clientSecret: 's'.repeat(LIMITS.clientSecretMaxLength + 1) } }, 'credential.clientSecret'],
      [{ ...valid, credential: { kind: 'certificate', certificatePem: `-----BEGIN CERTIFICATE-----${'A'.repeat(LIMITS.certificatePemMaxLength)}`, privateKeyPem: '-----BEGIN PRIVATE KEY-----' } }, 'credential.certificatePem'],
      [{ ...valid, credential: { kind: 'certificate', certificatePem: '-----BEGIN CERTIFICATE-----', privateKeyPem: `-----BEGIN PRIVATE KEY-----${'A'.repeat(LIMITS.privateKeyPemMaxLength)}` } }, 'credential.privateKeyPem'],
    ];
    for (const [body, field] of cases) {
      const answer = await harness.api<RawAnswer['body']>('POST', '/v1/tenants', body);
      assert.equal(answer.status, 400, `${field}: ${JSON.stringify(answer.body).slice(0, 200)}`);
      assert.equal(answer.body.error?.details?.field, field);
      const rotate = typeof body.credential === 'object' && field.startsWith('credential') ? await harness.api<RawAnswer['body']>('PUT', `/v1/tenants/${tenantId}/credentials`, { credential: body.credential }) : undefined;
      if (rotate) assert.equal(rotate.body.error?.details?.field, field);
    }
    assert.equal(await snapshot(), before);
  });

  it('bounds every query field and refuses query fields a route does not take, naming them', async () => {
    const cases: Array<[string, string]> = [
      [`/v1/tenants/${tenantId}/users?text=${'t'.repeat(LIMITS.searchTextMaxLength + 1)}`, 'text'],
      [`/v1/tenants/${tenantId}/users?state=constructor`, 'state'],
      [`/v1/tenants/${tenantId}/users?limit=${'9'.repeat(400)}`, 'limit'],
      [`/v1/tenants/${tenantId}/users?__proto__=1`, '__proto__'],
      ['/v1/tasks?tenantId=constructor', 'tenantId'],
      [`/v1/tasks?tenantId=${'a'.repeat(10_000)}`, 'tenantId'],
      ['/v1/logs?taskId=toString', 'taskId'],
      ['/v1/logs?tenantId=valueOf', 'tenantId'],
      ['/v1/tenants?hasOwnProperty=1', 'hasOwnProperty'],
      [`/v1/tenants/${tenantId}?verbose=1`, 'verbose'],
      ['/v1/events?constructor=1', 'constructor'],
    ];
    for (const [path, field] of cases) {
      const answer = await send(harness, 'GET', path);
      assert.equal(answer.status, 400, `${path.slice(0, 80)}: ${JSON.stringify(answer.body).slice(0, 200)}`);
      assert.equal(answer.body.error?.details?.field, field);
    }
  });

  it('bounds the X-M365-Operator header on every route, naming it', async () => {
    for (const shape of API_ROUTE_SHAPES) {
      const answer = await send(harness, shape.method, pathOf(shape), { headers: { 'x-m365-operator': 'o'.repeat(LIMITS.operatorMaxLength + 1) } });
      assert.equal(answer.status, 400, `${shape.method} ${shape.path}`);
      assert.equal(answer.body.error?.details?.field, 'X-M365-Operator');
    }
    const named = await harness.api<{ activity: { actor: string } }>('POST', `/v1/tenants/${tenantId}/refresh`, undefined, { 'x-m365-operator': 'Ada Lovelace' });
    assert.equal(named.body.activity.actor, 'Ada Lovelace');
  });
});
