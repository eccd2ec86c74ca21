import assert from 'node:assert/strict';
import { Agent, fetch } from 'undici';
import { SimHarness } from '../support/simHarness';

describe('sim: control API', () => {
  let harness: SimHarness;
  before(async () => {
    harness = await SimHarness.start();
  });
  after(async () => harness.stop());

  it('answers bad input with 400 naming the field, and creates nothing', async () => {
    const before = (await harness.control<{ value: unknown[] }>('GET', '/tenants')).body.value.length;
    const bad = await harness.control<{ error: { code: string; field: string; message: string } }>('POST', '/tenants', { users: -3 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'users');
    const unknownRole = await harness.control<{ error: { field: string } }>('POST', '/tenants', { app: { roles: ['User.Everything'] } });
    assert.equal(unknownRole.status, 400);
    assert.equal(unknownRole.body.error.field, 'app.roles.0');
    const unknownKey = await harness.control<{ error: { message: string } }>('POST', '/tenants', { colour: 'blue' });
    assert.equal(unknownKey.status, 400);
    assert.match(unknownKey.body.error.message, /colour/);
    assert.equal((await harness.control<{ value: unknown[] }>('GET', '/tenants')).body.value.length, before);
  });

  it('refuses a second tenant with the same domain with 409', async () => {
    await harness.createTenant({ domain: 'taken.onmicrosoft.com' });
    const again = await harness.control('POST', '/tenants', { domain: 'taken.onmicrosoft.com' });
    assert.equal(again.status, 409);
  });

  it('answers 404 for an unknown tenant, user or route', async () => {
    assert.equal((await harness.control('GET', '/tenants/nope.onmicrosoft.com')).status, 404);
    const tenant = await harness.createTenant({ users: 1 });
    assert.equal((await harness.control('GET', `/tenants/${tenant.id}/users/nobody@x.com`)).status, 404);
    assert.equal((await harness.control('GET', '/no-such-thing')).status, 404);
  });

  it('seeds users, adds a named one, and reports counts and memory', async () => {
    const tenant = await harness.createTenant({ users: 10 });
    const seeded = await harness.control<{ created: number }>('POST', `/tenants/${tenant.id}/users`, { count: 40 });
    assert.equal(seeded.body.created, 40);
    const named = await harness.control<{ displayName: string; userPrincipalName: string; onPremisesSyncEnabled: boolean }>(
      'POST',
      `/tenants/${tenant.id}/users`,
      { displayName: 'Søren Ødegaard', userPrincipalName: `soren@${tenant.domain}`, onPremisesSyncEnabled: true },
    );
    assert.equal(named.status, 201);
    assert.equal(named.body.displayName, 'Søren Ødegaard');
    const byName = await harness.control<{ userPrincipalName: string }>('GET', `/tenants/${tenant.id}/users/soren@${tenant.domain}`);
    assert.equal(byName.body.userPrincipalName, `soren@${tenant.domain}`);
    assert.equal((await harness.control<{ users: number }>('GET', `/tenants/${tenant.id}`)).body.users, 51);
    const health = await harness.control<{ ok: boolean; memory: { rssBytes: number } }>('GET', '/health');
    assert.equal(health.body.ok, true);
    assert.ok(health.body.memory.rssBytes > 0);
  });

  it('serves the CA certificate that its TLS certificate chains to', async () => {
    const response = await fetch(`${harness.sim.url}/_sim/ca.pem`, { dispatcher: harness.dispatcher });
    const pem = await response.text();
    assert.equal(response.status, 200);
    assert.equal(pem, harness.sim.caPem);
    const untrusted = new Agent();
    await assert.rejects(fetch(`${harness.sim.url}/_sim/health`, { dispatcher: untrusted }), /certificate|fetch failed/i);
    await untrusted.close();
  });
});
