import assert from 'node:assert/strict';
import { GraphError, type Client } from '@microsoft/microsoft-graph-client';
import { SimHarness, type CreatedTenant } from '../support/simHarness';

type Tenant = CreatedTenant & { app: { appId: string; secret: string } };
type DeltaUser = { id: string; accountEnabled?: boolean; displayName?: string; '@removed'?: { reason: string } };

/** Follows nextLinks until the deltaLink, as the daemon's sync does. */
async function deltaRound(client: Client, start: string, headers: Record<string, string> = {}) {
  const users: DeltaUser[] = [];
  let pages = 0;
  let request = client.api(start);
  for (;;) {
    for (const [name, value] of Object.entries(headers)) request = request.header(name, value);
    const page = await request.get();
    pages++;
    users.push(...(page.value as DeltaUser[]));
    assert.ok(!(page['@odata.nextLink'] && page['@odata.deltaLink']), 'never both links on one page');
    if (page['@odata.deltaLink']) return { users, pages, deltaLink: page['@odata.deltaLink'] as string };
    request = client.api(page['@odata.nextLink']);
  }
}

describe('sim: Graph users delta', () => {
  let harness: SimHarness;
  let tenant: Tenant;
  let client: Client;
  const select = 'id,displayName,accountEnabled,userPrincipalName';
  beforeEach(async () => {
    harness ??= await SimHarness.start();
    tenant = await harness.createTenant({ users: 450, userMix: { privilegedShare: 0 } });
    client = harness.clientFor(tenant);
  });
  after(async () => harness.stop());

  it('returns every user in the initial round in pages of at most 200, ending in a deltaLink', async () => {
    const round = await deltaRound(client, `/users/delta?$select=${select}`);
    assert.equal(round.users.length, 450);
    assert.equal(new Set(round.users.map((u) => u.id)).size, 450);
    assert.equal(round.pages, 3);
    assert.match(round.deltaLink, /\/v1\.0\/users\/delta\?\$deltatoken=/);
    const quiet = await deltaRound(client, round.deltaLink);
    assert.deepEqual(quiet.users, [], 'nothing changed, nothing comes');
  });

  it('answers only the changed users with every selected property, and replays the same link', async () => {
    const initial = await deltaRound(client, `/users/delta?$select=${select}`);
    const target = initial.users.find((u) => u.accountEnabled === true) as DeltaUser;
    await client.api(`/users/${target.id}`).patch({ accountEnabled: false });
    const changes = await deltaRound(client, initial.deltaLink);
    assert.equal(changes.users.length, 1);
    assert.deepEqual(Object.keys(changes.users[0] as object).sort(), ['accountEnabled', 'displayName', 'id', 'userPrincipalName']);
    assert.equal(changes.users[0]?.accountEnabled, false);
    const replay = await deltaRound(client, initial.deltaLink);
    assert.deepEqual(replay.users, changes.users, 'a replayed deltaLink answers the same changes');
    assert.deepEqual((await deltaRound(client, changes.deltaLink)).users, []);
  });

  it('sends an out-of-band re-enable made in the admin center as a change', async () => {
    const initial = await deltaRound(client, `/users/delta?$select=${select}`);
    const target = initial.users.find((u) => u.accountEnabled === true) as DeltaUser;
    await client.api(`/users/${target.id}`).patch({ accountEnabled: false });
    const afterLock = await deltaRound(client, initial.deltaLink);
    const change = await harness.control('PATCH', `/tenants/${tenant.id}/users/${target.id}`, { accountEnabled: true });
    assert.equal(change.status, 200);
    const afterReEnable = await deltaRound(client, afterLock.deltaLink);
    assert.deepEqual(afterReEnable.users.map((u) => [u.id, u.accountEnabled]), [[target.id, true]]);
    const audit = await client.api('/auditLogs/directoryAudits').filter(`targetResources/any(t:t/id eq '${target.id}')`).get();
    assert.equal(audit.value[0].initiatedBy.user.userPrincipalName, `admin@${tenant.domain}`);
    assert.equal(audit.value[0].targetResources[0].modifiedProperties[0].newValue, '[true]');
  });

  it('marks a deleted user @removed with reason deleted', async () => {
    const initial = await deltaRound(client, `/users/delta?$select=${select}`);
    const victim = initial.users[7] as DeltaUser;
    assert.equal((await harness.control('DELETE', `/tenants/${tenant.id}/users/${victim.id}`)).status, 204);
    const changes = await deltaRound(client, initial.deltaLink);
    assert.deepEqual(changes.users, [{ id: victim.id, '@removed': { reason: 'deleted' } }]);
  });

  it('sends only the changed properties under Prefer: return=minimal', async () => {
    const initial = await deltaRound(client, `/users/delta?$select=${select}`);
    const target = initial.users.find((u) => u.accountEnabled === true) as DeltaUser;
    await harness.control('PATCH', `/tenants/${tenant.id}/users/${target.id}`, { accountEnabled: false });
    const minimal = await deltaRound(client, initial.deltaLink, { Prefer: 'return=minimal' });
    assert.deepEqual(minimal.users, [{ id: target.id, accountEnabled: false }]);
  });

  it('ignores changes to properties that were not selected', async () => {
    const initial = await deltaRound(client, '/users/delta?$select=id,accountEnabled');
    await harness.control('PATCH', `/tenants/${tenant.id}/users/${initial.users[0]?.id}`, { displayName: 'Renamed Person' });
    assert.deepEqual((await deltaRound(client, initial.deltaLink)).users, []);
  });

  it('keeps a change made while the initial round is being paged', async () => {
    const first = await client.api(`/users/delta?$select=${select}`).get();
    const late = (first.value as DeltaUser[]).find((u) => u.accountEnabled === true) as DeltaUser;
    await harness.control('PATCH', `/tenants/${tenant.id}/users/${late.id}`, { accountEnabled: false });
    const rest = await deltaRound(client, first['@odata.nextLink']);
    const next = await deltaRound(client, rest.deltaLink);
    assert.deepEqual(next.users.map((u) => [u.id, u.accountEnabled]), [[late.id, false]]);
  });

  it('answers $deltatoken=latest with a deltaLink and no users, then only later changes', async () => {
    const latest = await deltaRound(client, `/users/delta?$select=${select}&$deltatoken=latest`);
    assert.deepEqual(latest.users, []);
    const someone = (await client.api('/users').select('id').top(1).get()).value[0];
    await harness.control('PATCH', `/tenants/${tenant.id}/users/${someone.id}`, { displayName: 'Later Change' });
    const changes = await deltaRound(client, latest.deltaLink);
    assert.deepEqual(changes.users.map((u) => u.displayName), ['Later Change']);
  });

  it('answers an expired delta token (over 7 days) with 400 syncStateNotFound', async () => {
    const initial = await deltaRound(client, `/users/delta?$select=${select}`);
    await harness.control('POST', '/clock', { advanceMs: 8 * 24 * 60 * 60 * 1000 });
    // A new token source: the simulated week outlived the cached access token too.
    const later = harness.clientFor(tenant);
    try {
      await later.api(initial.deltaLink).get();
      assert.fail('expected syncStateNotFound');
    } catch (error) {
      assert.ok(error instanceof GraphError);
      assert.equal(error.statusCode, 400);
      assert.equal(error.code, 'syncStateNotFound');
      assert.match(error.message, /The delta token is expired and data must be synchronized again/);
    }
  });

  it('answers dropped sync state with 410 resyncRequired and a Location to start over', async () => {
    const initial = await deltaRound(client, `/users/delta?$select=${select}`);
    await harness.control('POST', `/tenants/${tenant.id}/delta/invalidate`, { mode: 'resyncRequired' });
    try {
      await client.api(initial.deltaLink).get();
      assert.fail('expected resyncRequired');
    } catch (error) {
      assert.ok(error instanceof GraphError);
      assert.equal(error.statusCode, 410);
      assert.equal(error.code, 'resyncRequired');
      const location = error.headers?.get('location') ?? '';
      assert.match(location, /\/v1\.0\/users\/delta\?\$select=/);
      const again = await deltaRound(client, location);
      assert.equal(again.users.length, 450);
    }
  });

  it('refuses a tampered delta token', async () => {
    const initial = await deltaRound(client, `/users/delta?$select=${select}`);
    const tampered = initial.deltaLink.replace(/deltatoken=(.)/, (_m, c: string) => `deltatoken=${c === 'A' ? 'B' : 'A'}`);
    await assert.rejects(client.api(tampered).get(), (error: GraphError) => error.statusCode === 400);
  });
});
