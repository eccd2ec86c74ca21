import assert from 'node:assert/strict';
import type { AppProfileView } from '../../../protocol/daemonApi';
import { silentLogger } from '../../../extension/common/logger';
import type { SnapshotMessage } from '../../../extension/model/credentialHealthFeed';
import { CredentialHealthFeed } from '../../../extension/model/credentialHealthFeed';
import { StatusModel } from '../../../extension/model/statusModel';
import { manualTimers } from '../support/manualTimers';
import { DAY, healthView, NOW, tenantView } from '../support/viewFixtures';

function profileView(name: string): AppProfileView {
  return {
    id: `profile-${name}`,
    name,
    partnerTenant: 'msp.onmicrosoft.com',
    appId: '22222222-2222-4222-8222-222222222222',
    credentialKind: 'secret',
    createdAt: NOW,
    credentialsRotatedAt: null,
    tenantIds: [],
    credentialHealth: { credentialExpiresAt: null, expiresSoon: false, tenantCount: 0, uncheckedTenantIds: [], failingTenants: [] },
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function feedWith(
  profiles: () => AppProfileView[],
  mode: 'local' | 'shared' = 'local',
): { model: StatusModel; feed: CredentialHealthFeed; posted: SnapshotMessage[]; reads: () => number; timers: ReturnType<typeof manualTimers> } {
  const model = new StatusModel({ users: { listUsers: () => Promise.reject(new Error('not read here')) } });
  const timers = manualTimers();
  const posted: SnapshotMessage[] = [];
  let reads = 0;
  const feed = new CredentialHealthFeed({
    model,
    readAppProfiles: () => {
      reads++;
      return Promise.resolve(profiles());
    },
    post: (message) => posted.push(message),
    mode: () => mode,
    timers,
    logger: silentLogger,
  });
  return { model, feed, posted, reads: () => reads, timers };
}

const profileNames = (message: SnapshotMessage | undefined): string[] | undefined => message?.snapshot.profiles.map((profile) => profile.name);

describe('extension model: what the credential-health page is sent', () => {
  it("forgets another session's app profiles: signed out, signed in elsewhere, or as a reader of a shared deployment", async () => {
    let profiles = [profileView('Local MSP app')];
    const { model, feed, posted, timers } = feedWith(() => profiles);
    model.setSession({ mode: 'local', engineer: { name: 'me', role: 'admin', tenants: null } });
    model.setConnection({ kind: 'connected', version: '0.1.0' });
    feed.pageLoaded();
    feed.setShown(true);
    await settle();
    assert.deepEqual(profileNames(posted.at(-1)), ['Local MSP app']);

    // Signed in to a shared deployment as a reader: the connection forgets everything and reads anew.
    profiles = [];
    model.clear();
    model.setSession({ mode: 'shared', engineer: { name: 'bob', role: 'reader', tenants: null } });
    model.replaceTenants([]);
    timers.advance(100);
    await settle();
    assert.deepEqual(profileNames(posted.at(-1)), [], 'the page no longer shows the local profile');
    feed.dispose();
  });

  it('sends nothing while the page is hidden, and reads app profiles only when they can have changed', async () => {
    // Their secrets expire half a day past a whole number of days, so that the countdown's text stays the same
    // while the test's clock moves on by milliseconds.
    const credentialHealth = healthView({ credentialExpiresAt: NOW + 200.5 * DAY });
    const tenants = Array.from({ length: 1000 }, (_, index) => tenantView({ id: `t${index}`, displayName: `Tenant ${index}`, credentialHealth }));
    const { model, feed, posted, reads, timers } = feedWith(() => [profileView('MSP app')]);
    model.replaceTenants(tenants);
    model.setConnection({ kind: 'connected', version: '0.1.0' });
    feed.pageLoaded();
    feed.setShown(true);
    await settle();
    assert.equal(posted.length, 2, 'a snapshot, and again with the profiles once read');
    assert.equal(reads(), 1);

    // A poll round: an event per tenant, nothing about credentials changed.
    const round = (asOf: number): void => {
      for (const tenant of tenants) model.applyEvent({ type: 'tenant', tenant: { ...tenant, asOf } });
    };
    round(NOW);
    timers.advance(100);
    await settle();
    assert.equal(posted.length, 2, 'the round changed nothing the page shows: nothing is sent');
    assert.equal(reads(), 1, 'the profiles are not read again');
    // A round in which one tenant's status changed: one snapshot for the whole round.
    const changed = tenants[1];
    assert.ok(changed);
    round(NOW + 0.5);
    model.applyEvent({ type: 'tenant', tenant: { ...changed, asOf: NOW + 0.5, status: 'DISCONNECTED' } });
    timers.advance(100);
    await settle();
    assert.equal(posted.length, 3, 'one snapshot for the whole round');
    assert.equal(posted.at(-1)?.snapshot.rows.find((row) => row.tenantId === changed.id)?.status, 'DISCONNECTED');

    // Hidden behind another editor: three rounds bring nothing.
    feed.setShown(false);
    round(NOW + 1);
    round(NOW + 2);
    round(NOW + 3);
    timers.advance(1000);
    await settle();
    assert.equal(posted.length, 3, 'nothing is sent while hidden');
    assert.equal(reads(), 1);
    feed.setShown(true);
    assert.equal(posted.length, 4, 'shown again: brought up to date at once');

    // A tenant on the profile is checked again: its profile's summary can have changed.
    const onProfile = tenants[0];
    assert.ok(onProfile);
    model.applyEvent({ type: 'tenant', tenant: { ...onProfile, asOf: NOW + 4, appProfileId: 'profile-MSP app', credentialHealth: healthView({ checkedAt: NOW + 4 }) } });
    timers.advance(100);
    await settle();
    assert.equal(reads(), 2);
    model.applyEvent({ type: 'tenant', tenant: { ...onProfile, asOf: NOW + 5, appProfileId: 'profile-MSP app', credentialHealth: healthView({ checkedAt: NOW + 4 }) } });
    timers.advance(100);
    await settle();
    assert.equal(reads(), 2, 'polled again, same check: not read again');
    model.appProfilesChanged();
    timers.advance(100);
    await settle();
    assert.equal(reads(), 3, 'a profile added or rotated here is read');
    feed.dispose();
  });

  it("tells the page the session's role: an admin's local daemon, a shared deployment's engineer, or none known yet", async () => {
    const local = feedWith(() => []);
    local.model.setConnection({ kind: 'connected', version: '0.1.0' });
    local.feed.pageLoaded();
    local.feed.setShown(true);
    assert.equal(local.posted.at(-1)?.role, 'admin', "a local daemon from before sessions is the operator's own");
    local.model.setSession({ mode: 'local', engineer: { name: 'me', role: 'admin', tenants: null } });
    local.timers.advance(100);
    assert.equal(local.posted.at(-1)?.role, 'admin');
    local.feed.dispose();

    const shared = feedWith(() => [], 'shared');
    shared.model.setConnection({ kind: 'connecting' });
    shared.feed.pageLoaded();
    shared.feed.setShown(true);
    assert.equal(shared.posted.at(-1)?.role, null, 'not read yet: the page offers nothing on a guess');
    for (const role of ['reader', 'operator', 'admin'] as const) {
      shared.model.setSession({ mode: 'shared', engineer: { name: 'bob', role, tenants: null } });
      shared.timers.advance(100);
      await settle();
      assert.equal(shared.posted.at(-1)?.role, role);
    }
    shared.feed.dispose();
  });
});
