import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { SimHarness, type CreatedTenant } from '../support/simHarness';

type Tenant = CreatedTenant & { app: { appId: string; secret: string } };

describe('sim: Graph writes ignore annotations, and reads cost what Graph charges', () => {
  let harness: SimHarness;
  let tenant: Tenant;
  let token: string;
  let userIds: string[];

  const graph = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${harness.sim.url}/v1.0${path}`, {
      method,
      dispatcher: harness.dispatcher,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const enabledInSim = async (id: string) =>
    (await harness.control<{ accountEnabled: boolean }>('GET', `/tenants/${tenant.id}/users/${id}`)).body.accountEnabled;

  before(async () => {
    harness = await SimHarness.start();
    tenant = await harness.createTenant({ users: 150, userMix: { privilegedShare: 0, disabledShare: 0, onPremisesShare: 0 } });
    token = (await harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret }).acquire()).accessToken;
    const list = (await (await graph('GET', '/users?$select=id&$top=5')).json()) as { value: Array<{ id: string }> };
    userIds = list.value.map((u) => u.id);
  });
  after(async () => harness.stop());

  it('accepts a PATCH carrying "@odata.type" (as Microsoft\'s SDKs send it) and applies the change', async () => {
    const id = userIds[0] ?? '';
    const response = await graph('PATCH', `/users/${id}`, { '@odata.type': '#microsoft.graph.user', accountEnabled: false });
    assert.equal(response.status, 204, await response.text());
    assert.equal(await enabledInSim(id), false);
  });

  it('ignores property annotations too, but still refuses a property it cannot update', async () => {
    const id = userIds[1] ?? '';
    const ok = await graph('PATCH', `/users/${id}`, { 'accountEnabled@odata.type': 'Edm.Boolean', accountEnabled: false });
    assert.equal(ok.status, 204, await ok.text());
    assert.equal(await enabledInSim(id), false);
    const refused = await graph('PATCH', `/users/${id}`, { '@odata.type': '#microsoft.graph.user', mail: 'x@example.com' });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /'mail'/);
  });

  it('accepts "@odata.type" in a PATCH inside $batch', async () => {
    const id = userIds[2] ?? '';
    const response = await graph('POST', '/$batch', {
      requests: [
        {
          id: '1',
          method: 'PATCH',
          url: `/users/${id}`,
          headers: { 'content-type': 'application/json' },
          body: { '@odata.type': '#microsoft.graph.user', accountEnabled: false },
        },
      ],
    });
    const answer = (await response.json()) as { responses: Array<{ id: string; status: number; body?: unknown }> };
    assert.equal(answer.responses[0]?.status, 204, JSON.stringify(answer.responses[0]?.body));
    assert.equal(await enabledInSim(id), false);
  });

  it('charges 2 resource units only for listing users without $select, and 1 for every other read', async () => {
    const units = async (path: string, headers: Record<string, string> = {}) => {
      const response = await graph('GET', path, undefined, headers);
      const body = await response.text();
      assert.equal(response.status, 200, `${path}: ${body}`);
      return { units: response.headers.get('x-ms-resource-unit'), body };
    };
    const eventual = { consistencylevel: 'eventual' };
    assert.equal((await units('/users')).units, '2', 'GET users');
    assert.equal((await units('/users?$select=id')).units, '1', 'GET users with $select');
    assert.equal((await units('/users?$top=5')).units, '1', 'GET users with $top under 20');
    assert.equal((await units(`/users/${userIds[3] ?? ''}`)).units, '1', 'GET users/{id}');
    assert.equal((await units(`/users/${userIds[3] ?? ''}?$select=accountEnabled`)).units, '1', 'GET users/{id} with $select');
    assert.equal((await units('/users/$count', eventual)).units, '1', 'GET users/$count');
    assert.equal((await units('/users/delta')).units, '1', 'GET users/delta');
    assert.equal((await units('/organization')).units, '1', 'GET organization');
    // Next pages cost as their first page did: the link repeats the $select.
    const plainNext = (JSON.parse((await units('/users')).body) as { '@odata.nextLink': string })['@odata.nextLink'];
    const selectedNext = (JSON.parse((await units('/users?$select=id')).body) as { '@odata.nextLink': string })['@odata.nextLink'];
    assert.equal((await units(plainNext.slice(plainNext.indexOf('/v1.0') + 5))).units, '2', 'next page of GET users');
    assert.equal((await units(selectedNext.slice(selectedNext.indexOf('/v1.0') + 5))).units, '1', 'next page of GET users with $select');
  });

  it('charges a write 1 resource unit', async () => {
    const response = await graph('POST', `/users/${userIds[4] ?? ''}/revokeSignInSessions`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-ms-resource-unit'), '1');
  });
});
