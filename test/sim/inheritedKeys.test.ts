import assert from 'node:assert/strict';
import { GraphError, type Client } from '@microsoft/microsoft-graph-client';
import { fetch } from 'undici';
import { SimHarness, type CreatedTenant } from '../support/simHarness';

type Tenant = CreatedTenant & { app: { appId: string; secret: string } };

/** Names every plain object inherits: an id equal to one must be an unknown id, never a crash or a hit. */
const builtInNames = ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'];

async function graphFailure(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GraphError, `expected a GraphError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected Graph to refuse');
}

describe('sim: ids that are names of built-in object properties', () => {
  let harness: SimHarness;
  let tenant: Tenant;
  let client: Client;
  let userId: string;
  before(async () => {
    harness = await SimHarness.start();
    tenant = await harness.createTenant({ users: 3, app: { roles: ['User.ReadWrite.All'] } });
    client = harness.clientFor(tenant);
    userId = ((await client.api('/users').top(1).get()) as { value: Array<{ id: string }> }).value[0]?.id ?? '';
  });
  after(async () => harness.stop());

  it('answers Graph /users/{id} for each with 404 Request_ResourceNotFound', async () => {
    for (const name of builtInNames) {
      for (const call of [() => client.api(`/users/${encodeURIComponent(name)}`).get(), () => client.api(`/users/${encodeURIComponent(name)}`).patch({ accountEnabled: false }), () => client.api(`/users/${encodeURIComponent(name)}/revokeSignInSessions`).post({})]) {
        const error = await graphFailure(call());
        assert.equal(error.statusCode, 404, name);
        assert.equal(error.code, 'Request_ResourceNotFound', name);
      }
    }
  });

  it('refuses a PATCH of a property named like one, as a property that cannot be updated', async () => {
    for (const name of builtInNames) {
      const response = await fetch(`${harness.sim.url}/v1.0/users/${userId}`, {
        method: 'PATCH',
        dispatcher: harness.dispatcher,
        headers: { authorization: `Bearer ${(await harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret }).acquire()).accessToken}`, 'content-type': 'application/json' },
        body: `{"${name}":{"accountEnabled":false}}`,
      });
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(response.status, 400, name);
      assert.equal(body.error.message, `Property '${name}' cannot be updated by this request.`);
    }
    const user = (await client.api(`/users/${userId}`).select('accountEnabled').get()) as { accountEnabled: boolean };
    assert.equal(user.accountEnabled, true);
  });

  it('refuses each in $select and $filter as an unknown property', async () => {
    for (const name of builtInNames) {
      const selected = await graphFailure(client.api('/users').select(`id,${name}`).get());
      assert.equal(selected.statusCode, 400, name);
      assert.match(selected.message, new RegExp(`Could not find a property named '${name}'`));
      const filtered = await graphFailure(client.api('/users').filter(`${name} eq 'x'`).get());
      assert.equal(filtered.statusCode, 400, name);
    }
  });

  it('answers the control API for each as an unknown tenant, user or app with 404', async () => {
    for (const name of builtInNames) {
      const id = encodeURIComponent(name);
      for (const path of [`/tenants/${id}`, `/tenants/${id}/counters`, `/tenants/${tenant.id}/users/${id}`, `/tenants/${tenant.id}/apps/${id}/secrets/expire`]) {
        const method = path.endsWith('expire') ? 'POST' : 'GET';
        const answer = await harness.control<{ error: { code: string } }>(method, path);
        assert.equal(answer.status, 404, `${method} ${path}`);
        assert.match(answer.body.error.code, /not_found$/);
      }
    }
  });

  it('answers the token endpoint for a tenant named like one as an unknown tenant', async () => {
    for (const name of builtInNames) {
      const response = await fetch(`${harness.sim.url}/${encodeURIComponent(name)}/oauth2/v2.0/token`, {
        method: 'POST',
        dispatcher: harness.dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: tenant.app.appId, client_secret: tenant.app.secret, scope: 'https://graph.microsoft.com/.default' }).toString(),
      });
      const body = (await response.json()) as { error: string; error_codes?: number[] };
      assert.equal(response.status, 400, name);
      assert.equal(body.error, 'invalid_request');
      // 90002: no such tenant; 900023: not even a tenant id or a domain. Either is Microsoft's answer.
      assert.ok([90002, 900023].includes(body.error_codes?.[0] ?? 0), `${name}: ${JSON.stringify(body.error_codes)}`);
    }
  });
});
