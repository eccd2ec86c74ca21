import assert from 'node:assert/strict';
import { GraphError, PageIterator, type Client } from '@microsoft/microsoft-graph-client';
import { SimHarness, type CreatedTenant } from '../support/simHarness';

type Tenant = CreatedTenant & { app: { appId: string; secret: string } };

async function graphFailure(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GraphError, `expected a GraphError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected Graph to refuse');
}

describe('sim: Graph users', () => {
  let harness: SimHarness;
  let tenant: Tenant;
  let client: Client;
  before(async () => {
    harness = await SimHarness.start();
    tenant = await harness.createTenant({ users: 5000, seed: 42 });
    client = harness.clientFor(tenant);
  });
  after(async () => harness.stop());

  it('pages through 5,000 users with $top=999 by @odata.nextLink, each user once', async () => {
    let page = await client.api('/users').select('id,userPrincipalName,displayName,accountEnabled').top(999).get();
    assert.match(page['@odata.nextLink'], /^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/users\?\$skiptoken=/);
    const ids: string[] = [];
    let pages = 1;
    for (;;) {
      for (const user of page.value as Array<{ id: string; accountEnabled: boolean }>) {
        assert.equal(typeof user.accountEnabled, 'boolean');
        ids.push(user.id);
      }
      const next = page['@odata.nextLink'];
      if (!next) break;
      page = await client.api(next).get();
      pages++;
    }
    assert.equal(ids.length, 5000);
    assert.equal(new Set(ids).size, 5000);
    assert.equal(pages, 6);
  });

  it('leaves accountEnabled out without $select, as Graph does', async () => {
    const page = await client.api('/users').top(5).get();
    assert.equal(page.value.length, 5);
    for (const user of page.value) {
      assert.equal('accountEnabled' in user, false);
      assert.ok(user.userPrincipalName.endsWith(`@${tenant.domain}`));
      assert.deepEqual(user.businessPhones, []);
    }
  });

  it('refuses $top above 999 with 400 and the documented message', async () => {
    const error = await graphFailure(client.api('/users').top(1000).get());
    assert.equal(error.statusCode, 400);
    assert.match(error.message, /Invalid page size specified: '1000'. Must be between 1 and 999 inclusive./);
  });

  it('filters accountEnabled eq false plainly, and the disabled share matches the generated mix', async () => {
    const page = await client.api('/users').select('id,accountEnabled').filter('accountEnabled eq false').top(999).get();
    assert.ok(page.value.length > 150 && page.value.length < 350, `${page.value.length} disabled of 5000`);
    assert.ok(page.value.every((u: { accountEnabled: boolean }) => u.accountEnabled === false));
  });

  it('needs ConsistencyLevel: eventual for $count and ne, and counts with it', async () => {
    const refused = await graphFailure(client.api('/users').query({ $count: 'true' }).get());
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.code, 'Request_UnsupportedQuery');
    const notEq = await graphFailure(client.api('/users').filter('accountEnabled ne true').get());
    assert.equal(notEq.code, 'Request_UnsupportedQuery');
    const disabled = await client.api('/users').filter('accountEnabled eq false').top(999).get();
    const counted = await client
      .api('/users')
      .header('ConsistencyLevel', 'eventual')
      .query({ $count: 'true' })
      .filter('accountEnabled ne true')
      .top(1)
      .get();
    assert.equal(counted['@odata.count'], disabled.value.length);
    const total = await client.api('/users/$count').header('ConsistencyLevel', 'eventual').get();
    assert.equal(Number(total), 5000);
  });

  it('gets one user by id and by userPrincipalName, and answers 404 Request_ResourceNotFound for neither', async () => {
    const [user] = (await client.api('/users').select('id,userPrincipalName').top(1).get()).value;
    const byId = await client.api(`/users/${user.id}`).select('id,displayName,accountEnabled').get();
    const byName = await client.api(`/users/${user.userPrincipalName}`).select('id').get();
    assert.equal(byId.id, user.id);
    assert.equal(byName.id, user.id);
    const missing = await graphFailure(client.api('/users/00000000-0000-4000-8000-000000000000').get());
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.code, 'Request_ResourceNotFound');
    assert.match(missing.requestId ?? '', /^[0-9a-f-]{36}$/);
  });

  it('generates non-ASCII and hostile display names deterministically from the seed', async () => {
    const names: string[] = [];
    const first = await client.api('/users').select('displayName').top(999).get();
    await new PageIterator(client, first, (u: { displayName: string }) => {
      names.push(u.displayName);
      return true;
    }).iterate();
    assert.ok(names.some((n) => /[^\p{ASCII}]/u.test(n)), 'some names are not ASCII');
    assert.ok(names.includes('<img src=x onerror=alert(1)>') || names.some((n) => n.includes('<')), 'hostile names are present');
    const again = await harness.createTenant({ users: 50, seed: 42, domain: 'same-seed.onmicrosoft.com' });
    const seeded = await harness.clientFor(again).api('/users').select('displayName').top(50).get();
    assert.deepEqual(seeded.value.map((u: { displayName: string }) => u.displayName), names.slice(0, 50));
  });

  it('disables and enables with PATCH accountEnabled (204) and records the app in the audit log', async () => {
    const small = await harness.createTenant({ users: 5, userMix: { privilegedShare: 0, disabledShare: 0 } });
    const graph = harness.clientFor(small);
    const [user] = (await graph.api('/users').select('id').top(1).get()).value;
    const answer = await graph.api(`/users/${user.id}`).responseType('raw' as never).patch({ accountEnabled: false });
    assert.equal((answer as unknown as Response).status, 204);
    assert.equal((await graph.api(`/users/${user.id}`).select('accountEnabled').get()).accountEnabled, false);
    const audit = await graph.api('/auditLogs/directoryAudits').filter(`targetResources/any(t:t/id eq '${user.id}')`).get();
    assert.equal(audit.value.length, 1);
    assert.equal(audit.value[0].initiatedBy.app.appId, small.app.appId);
    assert.deepEqual(audit.value[0].targetResources[0].modifiedProperties, [
      { displayName: 'AccountEnabled', oldValue: '[true]', newValue: '[false]' },
    ]);
  });

  it('refuses PATCH accountEnabled without User.EnableDisableAccount.All with 403 Authorization_RequestDenied', async () => {
    const readOnly = await harness.createTenant({ users: 3, app: { roles: ['User.Read.All'] } });
    const graph = harness.clientFor(readOnly);
    const [user] = (await graph.api('/users').select('id').top(1).get()).value;
    const error = await graphFailure(graph.api(`/users/${user.id}`).patch({ accountEnabled: false }));
    assert.equal(error.statusCode, 403);
    assert.equal(error.code, 'Authorization_RequestDenied');
    assert.equal(error.message, 'Insufficient privileges to complete the operation.');
    const state = await harness.control<{ accountEnabled: boolean }>('GET', `/tenants/${readOnly.id}/users/${user.id}`);
    assert.equal(state.body.accountEnabled, true, 'a refused PATCH changes nothing');
  });

  it('refuses every call of an app without consent (token without roles) with 403', async () => {
    const unconsented = await harness.createTenant({ users: 3, app: { consentGranted: false } });
    const error = await graphFailure(harness.clientFor(unconsented).api('/users').select('id').get());
    assert.equal(error.statusCode, 403);
    assert.equal(error.code, 'Authorization_RequestDenied');
  });

  it('refuses to disable a privileged admin unless the app holds a higher admin role', async () => {
    const admins = await harness.createTenant({ users: 4, userMix: { privilegedShare: 1 } });
    const graph = harness.clientFor(admins);
    const [admin] = (await graph.api('/users').select('id').top(1).get()).value;
    const error = await graphFailure(graph.api(`/users/${admin.id}`).patch({ accountEnabled: false }));
    assert.equal(error.statusCode, 403);
    assert.equal(error.code, 'Authorization_RequestDenied');
    await harness.control('PATCH', `/tenants/${admins.id}/apps/${admins.app.appId}`, { privilegedAdmin: true });
    await graph.api(`/users/${admin.id}`).patch({ accountEnabled: false });
    assert.equal((await graph.api(`/users/${admin.id}`).select('accountEnabled').get()).accountEnabled, false);
  });

  it('revokes sign-in sessions: 200 with value true, and signInSessionsValidFromDateTime moves', async () => {
    const small = await harness.createTenant({ users: 2 });
    const graph = harness.clientFor(small);
    const [user] = (await graph.api('/users').select('id,signInSessionsValidFromDateTime').top(1).get()).value;
    await harness.control('POST', '/clock', { advanceMs: 60_000 });
    const answer = await graph.api(`/users/${user.id}/revokeSignInSessions`).post({});
    assert.equal(answer.value, true);
    const after = await graph.api(`/users/${user.id}`).select('signInSessionsValidFromDateTime').get();
    assert.ok(Date.parse(after.signInSessionsValidFromDateTime) > Date.parse(user.signInSessionsValidFromDateTime));
  });

  it('keeps each tenant to its own directory: another tenant\'s user is not found with this tenant\'s token', async () => {
    const a = await harness.createTenant({ users: 2 });
    const b = await harness.createTenant({ users: 2 });
    const [userOfB] = (await harness.clientFor(b).api('/users').select('id').top(1).get()).value;
    const error = await graphFailure(harness.clientFor(a).api(`/users/${userOfB.id}`).get());
    assert.equal(error.statusCode, 404);
    const patch = await graphFailure(harness.clientFor(a).api(`/users/${userOfB.id}`).patch({ accountEnabled: false }));
    assert.equal(patch.statusCode, 404);
    const org = await harness.clientFor(a).api('/organization').get();
    assert.equal(org.value[0].id, a.id);
  });

  it('rejects a missing, forged or expired bearer token with 401 InvalidAuthenticationToken, one it accepted before included', async () => {
    const url = `${harness.sim.url}/v1.0/users`;
    const { fetch } = await import('undici');
    const none = await fetch(url, { dispatcher: harness.dispatcher });
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'InvalidAuthenticationToken');
    const token = (await harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret }).acquire()).accessToken;
    // Used once while valid, so that its signature is known to be good when it expires.
    const valid = await fetch(url, { dispatcher: harness.dispatcher, headers: { authorization: `Bearer ${token}` } });
    assert.equal(valid.status, 200);
    assert.ok(Array.isArray(((await valid.json()) as { value: unknown }).value));
    const [h, p] = token.split('.');
    const forged = `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`;
    const refused = await fetch(url, { dispatcher: harness.dispatcher, headers: { authorization: `Bearer ${forged}` } });
    assert.equal(refused.status, 401);
    await harness.control('POST', '/clock', { advanceMs: 2 * 60 * 60 * 1000 });
    const expired = await fetch(url, { dispatcher: harness.dispatcher, headers: { authorization: `Bearer ${token}` } });
    assert.equal(expired.status, 401);
    assert.equal(((await expired.json()) as { error: { message: string } }).error.message, 'Access token has expired or is not yet valid.');
  });
});
