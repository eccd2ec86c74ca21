import assert from 'node:assert/strict';
import type { DaemonEvent, LockOutcome, UserPage } from '../../../protocol/daemonApi';
import { DaemonHarness } from '../../support/daemonHarness';
import { readSseMessages } from '../../support/sseMessages';
import { withFileSizeLimit } from '../../support/withFileSizeLimit';

interface SimUserDetail {
  id: string;
  accountEnabled: boolean;
  onPremisesSyncEnabled: boolean | null;
  privilegedRole: string | null;
}

describe('daemon API: lock and unlock edge cases, and the event stream', function () {
  this.timeout(30_000);
  let harness: DaemonHarness;
  before(async () => {
    harness = await DaemonHarness.start();
  });
  after(async () => harness.stop());

  async function syncedTenant(spec: Record<string, unknown>) {
    const registered = await harness.registerTenant(spec);
    await harness.until(async () => (await harness.api<UserPage>('GET', `/v1/tenants/${registered.id}/users?limit=1`)).body.total > 0);
    return registered;
  }

  it('refuses to lock a user synced from on-premises AD before calling Graph, and locks it with the override', async () => {
    const { sim, id } = await syncedTenant({ users: 6, userMix: { onPremisesShare: 1, disabledShare: 0, privilegedShare: 0 } });
    const user = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users[0];
    assert.ok(user?.onPremisesSyncEnabled);
    await harness.sim.control('DELETE', `/tenants/${sim.id}/counters`);
    const refused = await harness.api<{ error: { code: string; message: string } }>('POST', `/v1/tenants/${id}/users/${user.id}/lock`, {});
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'ON_PREMISES_USER');
    assert.match(refused.body.error.message, /on-premises Active Directory/);
    // Polls may run meanwhile (users.delta); the lock itself would read the user and PATCH it.
    const counters = await harness.sim.control<{ byOperation: Record<string, number> }>('GET', `/tenants/${sim.id}/counters`);
    assert.equal(counters.body.byOperation['users.get'] ?? 0, 0, 'Graph was not asked about the user');
    assert.equal(counters.body.byOperation['users.update'] ?? 0, 0, 'Graph was not asked to change the user');
    const overridden = await harness.api<LockOutcome>('POST', `/v1/tenants/${id}/users/${user.id}/lock`, { overrideOnPremises: true });
    assert.equal(overridden.body.outcome, 'locked');
    assert.equal((await harness.sim.control<SimUserDetail>('GET', `/tenants/${sim.id}/users/${user.id}`)).body.accountEnabled, false);
  });

  it('reports Graph\'s refusal to disable a privileged admin, and changes nothing', async () => {
    const { sim, id } = await syncedTenant({ users: 3, userMix: { privilegedShare: 1, onPremisesShare: 0, disabledShare: 0 } });
    const user = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users[0];
    assert.ok(user);
    const refused = await harness.api<{ error: { code: string; message: string; errorId: string } }>('POST', `/v1/tenants/${id}/users/${user.id}/lock`, {});
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'GRAPH_REFUSED');
    assert.match(refused.body.error.message, /privileged admin role/);
    assert.equal((await harness.sim.control<SimUserDetail>('GET', `/tenants/${sim.id}/users/${user.id}`)).body.accountEnabled, true);
    const after = await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?state=locked`);
    assert.equal(after.body.total, 0);
    const logs = await harness.api<{ entries: Array<{ code: string | null; tenantId: string | null }> }>('GET', `/v1/logs?tenantId=${id}`);
    assert.ok(logs.body.entries.some((e) => e.code === 'GRAPH_REFUSED'), 'the refusal is in the system log');
    assert.equal(logs.body.entries.filter((e) => e.code === 'GRAPH_REFUSED').length, 1, 'recorded once, as an action');
    assert.equal(harness.logLines.filter((line) => line.includes(refused.body.error.errorId)).length, 1, 'logged once, under the error id answered');
  });

  it('says a lock made in Microsoft 365 is made when the disk will not take its record, and keeps it', async () => {
    const { sim, id } = await syncedTenant({ users: 3, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    const user = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users[0];
    assert.ok(user);
    // The users log is appended to: with a one-byte file-size limit the append fails as on a full disk.
    const answer = await withFileSizeLimit(1, () => harness.api<{ error: { code: string; message: string } }>('POST', `/v1/tenants/${id}/users/${user.id}/lock`, {}));
    assert.equal(answer.status, 500);
    assert.equal(answer.body.error.code, 'ACTION_NOT_RECORDED');
    assert.match(answer.body.error.message, new RegExp(`^${user.userPrincipalName.replace(/\./g, '\\.')} is disabled in Microsoft 365, but m365-status could not record the lock`));
    assert.equal((await harness.sim.control<SimUserDetail>('GET', `/tenants/${sim.id}/users/${user.id}`)).body.accountEnabled, false, 'the account is disabled');
    const locked = await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?state=locked`);
    assert.deepEqual(locked.body.users.map((u) => u.id), [user.id], 'and shown locked, its record written with the tenant’s next write');
  });

  it('reports a missing permission when the app cannot disable users', async () => {
    const { id } = await syncedTenant({ users: 3, app: { roles: ['User.Read.All'] }, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    const user = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users[0];
    const refused = await harness.api<{ error: { code: string; message: string } }>('POST', `/v1/tenants/${id}/users/${user?.id}/lock`, {});
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /User\.EnableDisableAccount\.All/);
  });

  it('unlocks a locked user, and says so plainly when the user is already enabled', async () => {
    const { sim, id } = await syncedTenant({ users: 3, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    const user = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users[0];
    assert.ok(user);
    const already = await harness.api<LockOutcome>('POST', `/v1/tenants/${id}/users/${user.id}/unlock`, {});
    assert.equal(already.body.outcome, 'unchanged');
    await harness.api('POST', `/v1/tenants/${id}/users/${user.id}/lock`, {});
    const unlocked = await harness.api<LockOutcome>('POST', `/v1/tenants/${id}/users/${user.id}/unlock`, {});
    assert.equal(unlocked.body.outcome, 'unlocked');
    assert.equal(unlocked.body.user.state, 'enabled');
    assert.equal((await harness.sim.control<SimUserDetail>('GET', `/tenants/${sim.id}/users/${user.id}`)).body.accountEnabled, true);
  });

  it('answers 404 for an unknown user, 400 for a user id that cannot name one, and 400 for a bad lock body', async () => {
    const { id } = await syncedTenant({ users: 2 });
    assert.equal((await harness.api('POST', `/v1/tenants/${id}/users/6f1d2c3b-0000-4000-8000-000000000001/lock`, {})).status, 404);
    assert.equal((await harness.api('POST', `/v1/tenants/${id}/users/nobody@contoso.onmicrosoft.com/lock`, {})).status, 404);
    const malformed = await harness.api<{ error: { details?: { field?: string } } }>('POST', `/v1/tenants/${id}/users/no-such-user/lock`, {});
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.details?.field, 'userId');
    const bad = await harness.api('POST', `/v1/tenants/${id}/users/6f1d2c3b-0000-4000-8000-000000000001/lock`, { revokeSessions: 'yes' });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /revokeSessions/);
  });

  it('streams the change of a lock to event clients as users, activity and tenant events', async () => {
    const { id } = await syncedTenant({ users: 3, userMix: { privilegedShare: 0, onPremisesShare: 0, disabledShare: 0 } });
    const user = (await harness.api<UserPage>('GET', `/v1/tenants/${id}/users?limit=1`)).body.users[0];
    assert.ok(user);
    const controller = new AbortController();
    const { fetch } = await import('undici');
    const response = await fetch(`${harness.daemon.url}/v1/events`, { headers: { authorization: `Bearer ${harness.daemon.token}` }, signal: controller.signal });
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const events: DaemonEvent[] = [];
    let hello = false;
    const reading = readSseMessages(response.body as AsyncIterable<Uint8Array>, (message) => {
      if (message.event === 'hello') hello = true;
      else if (message.event === 'message') events.push(JSON.parse(message.data) as DaemonEvent);
    }).catch(() => undefined);
    await harness.until(() => hello, 5_000, 'the hello event');
    await harness.api('POST', `/v1/tenants/${id}/users/${user.id}/lock`, {});
    await harness.until(() => events.some((e) => e.type === 'users' && e.users.some((u) => u.id === user.id && u.state === 'locked')), 5_000, 'the users event');
    await harness.until(() => events.some((e) => e.type === 'activity' && e.activity.kind === 'lock'), 5_000, 'the activity event');
    const tenantEvent = events.find((e) => e.type === 'tenant' && e.tenant.id === id && e.tenant.counts.locked === 1);
    assert.ok(tenantEvent, 'the tenant event carries the new counts');
    controller.abort();
    await reading;
  });
});
