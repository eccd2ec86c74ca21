import assert from 'node:assert/strict';
import { ManualClock } from '../../support/manualClock';
import type { AppError } from '../../../daemon/errors/AppError';
import type { Store } from '../../../daemon/store/store';
import type { ObservedUser, RefreshDecision, StoredTask, StoredTenant, StoreEvent } from '../../../daemon/store/storeTypes';

export interface ContractStoreOptions {
  clock: ManualClock;
  systemLogMaxEntries?: number;
  automatedTaskRetention?: number;
  checkpointIntervalMs?: number;
}

/** One test's storage, fresh for each test, and the ways a contract test opens a store on it. */
export interface StoreUnderTest {
  /** Opens the store on this test's storage; the previous one opened is closed first. */
  open(options: ContractStoreOptions): Promise<Store>;
  /**
   * A store over what is durable at this moment, as a crash now would leave it, read without going
   * through the open store (another daemon's view, or a copy of the files).
   */
  openDurable(options: ContractStoreOptions): Promise<Store>;
  /** Closes whatever is open and removes the storage. */
  cleanup(): Promise<void>;
}

export function observed(id: string, change: Partial<ObservedUser> = {}): ObservedUser {
  return {
    id,
    userPrincipalName: `${id}@contoso.example`,
    displayName: `User ${id}`,
    accountEnabled: true,
    onPremisesSyncEnabled: null,
    ...change,
  };
}

// Names every plain object inherits: an id from outside must never find them.
const INHERITED_NAMES = ['constructor', 'toString', 'hasOwnProperty', '__proto__'] as const;

function isNotFound(code: string) {
  return (error: AppError): boolean => {
    assert.equal(error.status, 404);
    assert.equal(error.code, code);
    return true;
  };
}

/**
 * What every implementation of `Store` must do, whatever it keeps its data in. An implementation's own
 * test calls this with a way to open it on fresh storage, and adds what is particular to its storage.
 */
export function describeStoreContract(name: string, storage: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let under: StoreUnderTest;
    let clock: ManualClock;
    let store: Store;

    beforeEach(async () => {
      under = await storage();
      clock = new ManualClock();
      store = await under.open({ clock, checkpointIntervalMs: 60_000 });
    });

    afterEach(async () => {
      await under.cleanup();
    });

    async function reopen(options: Omit<ContractStoreOptions, 'clock'> = {}): Promise<Store> {
      store = await under.open({ clock, checkpointIntervalMs: 60_000, ...options });
      return store;
    }

    async function addTenant(name = 'contoso.example'): Promise<StoredTenant> {
      return store.addTenant({ tenantIdOrDomain: name, appId: 'app-1', credentialKind: 'secret', by: 'alice' });
    }

    describe('tenants', () => {
      it('keeps tenants, users, tasks and activities across a reopen', async () => {
        const tenant = await addTenant();
        await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1'), observed('u2')], deltaLink: 'https://graph/delta?token=1', fullRound: true });
        const task = await store.queueTask({ tenantId: tenant.id, kind: 'update-ad-cache', name: 'Update AD cache', description: '', origin: 'operator', automated: false });

        await reopen();
        assert.equal((await store.getTenant(tenant.id))?.tenantIdOrDomain, 'contoso.example');
        assert.deepEqual((await store.listTenants()).map((t) => t.id), [tenant.id]);
        assert.deepEqual((await store.listUsers(tenant.id)).users.map((u) => u.id), ['u1', 'u2']);
        assert.equal(await store.getDeltaLink(tenant.id), 'https://graph/delta?token=1');
        assert.equal((await store.getTask(task.id))?.status, 'PENDING');
        assert.equal((await store.listActivities({ tenantId: tenant.id }))[0]?.kind, 'tenant-added');
      });

      it('refuses to register the same tenant twice, whatever the case', async () => {
        await addTenant();
        await assert.rejects(addTenant('CONTOSO.example'), (error: AppError) => error.status === 409 && error.code === 'TENANT_EXISTS');
      });

      it('answers "not found" for an unknown tenant, including ids every object inherits', async () => {
        await addTenant();
        for (const id of ['no-such-tenant', ...INHERITED_NAMES]) {
          assert.equal(await store.getTenant(id), undefined, id);
          await assert.rejects(store.requireTenant(id), isNotFound('TENANT_NOT_FOUND'), id);
          await assert.rejects(store.listUsers(id), isNotFound('TENANT_NOT_FOUND'), id);
          await assert.rejects(store.countUsers(id), isNotFound('TENANT_NOT_FOUND'), id);
          await assert.rejects(store.getDeltaLink(id), isNotFound('TENANT_NOT_FOUND'), id);
          await assert.rejects(store.recordSyncSuccess(id), isNotFound('TENANT_NOT_FOUND'), id);
          await assert.rejects(store.applyUserChanges(id, { observedAt: clock.now(), users: [], deltaLink: null }), isNotFound('TENANT_NOT_FOUND'), id);
        }
      });

      it('reads a tenant and the tenant list read-only as they are now, and reads no tenant that is gone or never was', async () => {
        const tenant = await addTenant();
        const other = await addTenant('fabrikam.example');
        clock.advance(1_000);
        await store.recordSyncSuccess(tenant.id);
        assert.deepEqual(await store.readTenant(tenant.id), await store.getTenant(tenant.id));
        assert.equal((await store.readTenant(tenant.id))?.lastSyncAt, clock.now());
        assert.deepEqual(await store.readTenants(), await store.listTenants());
        for (const id of ['no-such-tenant', ...INHERITED_NAMES]) assert.equal(await store.readTenant(id), undefined, id);
        await store.removeTenant(other.id, 'alice');
        assert.equal(await store.readTenant(other.id), undefined);
        assert.deepEqual((await store.readTenants()).map((t) => t.id), [tenant.id]);
      });

      it('removes a tenant with its users, failing its pending tasks and keeping its history', async () => {
        const tenant = await addTenant();
        await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
        const task = await store.queueTask({ tenantId: tenant.id, kind: 'update-ad-cache', name: 'Update AD cache', description: '', origin: 'operator', automated: false });
        await store.removeTenant(tenant.id, 'alice');
        assert.equal(await store.getTenant(tenant.id), undefined);
        assert.equal((await store.getTask(task.id))?.error?.code, 'TENANT_REMOVED');
        assert.equal((await store.listActivities({ tenantId: tenant.id }))[0]?.kind, 'tenant-removed');
        await assert.rejects(store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [], deltaLink: null }), /No tenant with id/);
        await reopen();
        assert.deepEqual(await store.listTenants(), []);
        await assert.rejects(store.getUser(tenant.id, 'u1'), isNotFound('TENANT_NOT_FOUND'));
      });

      it('records a status change once, with an activity, and nothing when the status is the same', async () => {
        const tenant = await addTenant();
        const changed = await store.recordTenantStatus(tenant.id, 'STALE', 'no successful sync for 4 min');
        assert.match(changed?.description ?? '', /ACTIVE → STALE: no successful sync/);
        assert.equal(changed?.management, false);
        assert.equal(await store.recordTenantStatus(tenant.id, 'STALE', 'still'), undefined);
        assert.equal((await store.listActivities({ tenantId: tenant.id })).filter((a) => a.kind === 'status-change').length, 1);
        assert.equal((await store.getTenant(tenant.id))?.status, 'STALE');
      });

      it('makes a new sync failure durable at once, keeps a repeat in memory, and makes clearing it durable at once', async () => {
        const tenant = await addTenant();
        await store.recordSyncFailure(tenant.id, { category: 'credentials', code: 'AADSTS7000215', message: 'Invalid client secret.' });
        const failedAt = clock.now();
        let durable = await under.openDurable({ clock });
        assert.equal((await durable.getTenant(tenant.id))?.lastError?.code, 'AADSTS7000215');
        await durable.close();

        clock.advance(60_000);
        await store.recordSyncFailure(tenant.id, { category: 'credentials', code: 'AADSTS7000215', message: 'Invalid client secret.' });
        assert.equal((await store.getTenant(tenant.id))?.lastError?.at, clock.now(), 'memory is current at once');

        await store.recordSyncSuccess(tenant.id);
        durable = await under.openDurable({ clock });
        assert.equal((await durable.getTenant(tenant.id))?.lastError, null, 'clearing an error is durable at once');
        await durable.close();
        assert.ok(failedAt < clock.now());
      });

      it('records rotated credentials with an activity, forgetting the old credential health', async () => {
        const tenant = await addTenant();
        await store.recordCredentialHealth(tenant.id, {
          checkedAt: clock.now(),
          canGetToken: true,
          failure: null,
          grantedRoles: ['User.Read.All'],
          missingRoles: [],
          missingOptionalRoles: [],
          credentialExpiresAt: null,
        });
        assert.deepEqual((await store.getTenant(tenant.id))?.credentialHealth?.grantedRoles, ['User.Read.All']);
        const activity = await store.recordCredentialsRotated(tenant.id, 'certificate', 'bob');
        assert.match(activity.description, /Replaced the secret used to sign in to contoso\.example with a certificate/);
        const after = await store.getTenant(tenant.id);
        assert.equal(after?.credentialKind, 'certificate');
        assert.equal(after?.credentialHealth, null);
      });
    });

    describe('app profiles', () => {
      async function addProfile(name = 'Partner app', appId = 'app-partner') {
        return store.addAppProfile({ name, partnerTenant: 'partner.example', appId, credentialKind: 'secret', credentialExpiresAt: 1_000_000, by: 'alice' });
      }

      it('keeps app profiles across a reopen, lists and gets them, and refuses a second one of the same name whatever the case', async () => {
        const profile = await addProfile();
        assert.equal(profile.credentialsRotatedAt, null);
        await assert.rejects(addProfile('PARTNER app', 'app-other'), (error: AppError) => error.status === 409 && error.code === 'APP_PROFILE_EXISTS');
        await reopen();
        assert.deepEqual(await store.listAppProfiles(), [profile]);
        assert.deepEqual(await store.getAppProfile(profile.id), profile);
        assert.deepEqual(await store.requireAppProfile(profile.id), profile);
        assert.equal((await store.listActivities())[0]?.kind, 'app-profile-added');
      });

      it('answers "not found" for an unknown app profile, including ids every object inherits', async () => {
        await addProfile();
        for (const id of ['no-such-profile', ...INHERITED_NAMES]) {
          assert.equal(await store.getAppProfile(id), undefined, id);
          await assert.rejects(store.requireAppProfile(id), isNotFound('APP_PROFILE_NOT_FOUND'), id);
          await assert.rejects(store.removeAppProfile(id, 'alice'), isNotFound('APP_PROFILE_NOT_FOUND'), id);
          await assert.rejects(store.recordAppProfileCredentialsRotated(id, { kind: 'secret', expiresAt: null }, 'alice'), isNotFound('APP_PROFILE_NOT_FOUND'), id);
        }
      });

      it('registers a tenant on a profile only with that profile and its app id; a tenant without one has none', async () => {
        const profile = await addProfile();
        const own = await addTenant();
        assert.equal(own.appProfileId, null);
        const onProfile = await store.addTenant({ tenantIdOrDomain: 'fabrikam.example', appId: 'app-partner', credentialKind: 'secret', appProfileId: profile.id, by: 'alice' });
        assert.equal(onProfile.appProfileId, profile.id);
        await assert.rejects(
          store.addTenant({ tenantIdOrDomain: 'other.example', appId: 'app-partner', credentialKind: 'secret', appProfileId: 'no-such-profile', by: 'alice' }),
          isNotFound('APP_PROFILE_NOT_FOUND'),
        );
        await assert.rejects(
          store.addTenant({ tenantIdOrDomain: 'other.example', appId: 'app-else', credentialKind: 'secret', appProfileId: profile.id, by: 'alice' }),
          (error: AppError) => error.status === 400 && error.details?.field === 'appId',
        );
        assert.equal(await store.getTenant('other.example'), undefined);
        assert.equal((await store.listTenants()).length, 2);
        await reopen();
        assert.equal((await store.getTenant(onProfile.id))?.appProfileId, profile.id);
      });

      it('refuses to remove a profile while tenants use it, naming them, and removes it once they are gone', async () => {
        const profile = await addProfile();
        const tenant = await store.addTenant({ tenantIdOrDomain: 'fabrikam.example', displayName: 'Fabrikam', appId: 'app-partner', credentialKind: 'secret', appProfileId: profile.id, by: 'alice' });
        await assert.rejects(store.removeAppProfile(profile.id, 'alice'), (error: AppError) => {
          assert.equal(error.status, 409);
          assert.equal(error.code, 'APP_PROFILE_IN_USE');
          assert.match(error.message, /Fabrikam/);
          assert.deepEqual(error.details?.tenantIds, [tenant.id]);
          return true;
        });
        await store.removeTenant(tenant.id, 'alice');
        const activity = await store.removeAppProfile(profile.id, 'alice');
        assert.equal(activity.kind, 'app-profile-removed');
        await reopen();
        assert.deepEqual(await store.listAppProfiles(), []);
      });

      it('records a profile rotation as one activity that moves every tenant using it to the new credential and forgets their health', async () => {
        const profile = await addProfile();
        const health = { checkedAt: clock.now(), canGetToken: true, failure: null, grantedRoles: ['User.Read.All'], missingRoles: [], missingOptionalRoles: [], credentialExpiresAt: null };
        const using = [];
        for (const name of ['a.example', 'b.example']) {
          const tenant = await store.addTenant({ tenantIdOrDomain: name, appId: 'app-partner', credentialKind: 'secret', appProfileId: profile.id, by: 'alice' });
          await store.recordCredentialHealth(tenant.id, health);
          using.push(tenant);
        }
        const own = await addTenant();
        await store.recordCredentialHealth(own.id, health);
        const before = (await store.listActivities()).length;
        clock.advance(5_000);
        const activity = await store.recordAppProfileCredentialsRotated(profile.id, { kind: 'certificate', expiresAt: 2_000_000 }, 'bob');
        assert.equal(activity.tenantId, null);
        assert.equal(activity.kind, 'credentials-rotated');
        assert.match(activity.description, /Replaced the secret with a certificate of app profile "Partner app", used by 2 tenants/);
        assert.equal((await store.listActivities()).length, before + 1);
        await reopen();
        const rotated = await store.requireAppProfile(profile.id);
        assert.deepEqual([rotated.credentialKind, rotated.credentialExpiresAt, rotated.credentialsRotatedAt], ['certificate', 2_000_000, clock.now()]);
        for (const tenant of using) {
          const after = await store.requireTenant(tenant.id);
          assert.equal(after.credentialKind, 'certificate');
          assert.equal(after.credentialHealth, null);
        }
        assert.deepEqual((await store.requireTenant(own.id)).credentialHealth?.grantedRoles, ['User.Read.All'], 'a tenant with its own app is untouched');
      });
    });

    describe('users', () => {
      it('answers a lock only once it is durable, with its activity and the tenant marked managed', async () => {
        const tenant = await addTenant();
        await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
        clock.advance(1_000);
        const { user, activity } = await store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: true });
        assert.equal(user.accountEnabled, false);
        const durable = await under.openDurable({ clock });
        try {
          const kept = await durable.getUser(tenant.id, 'u1');
          assert.deepEqual(kept?.lock, { by: 'alice', at: clock.now(), revokedSessions: true });
          assert.equal(kept?.accountEnabled, false);
          assert.ok((await durable.listActivities()).some((a) => a.id === activity.id), 'the activity is durable too');
          assert.equal((await durable.getTenant(tenant.id))?.lastManagementActivityAt, clock.now());
        } finally {
          await durable.close();
        }
      });

      it('unlocks a locked user, with an activity', async () => {
        const tenant = await addTenant();
        await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
        await store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: false });
        clock.advance(1_000);
        const { user, activity } = await store.recordUserUnlocked(tenant.id, 'u1', 'bob');
        assert.deepEqual([user.accountEnabled, user.lock, user.lastChangedAt], [true, null, clock.now()]);
        assert.deepEqual([activity.kind, activity.actor, activity.userId], ['unlock', 'bob', 'u1']);
        assert.deepEqual(await store.countUsers(tenant.id), { total: 1, enabled: 1, disabled: 0, locked: 0 });
      });

      it('answers "not found" for an unknown user, including ids every object inherits', async () => {
        const tenant = await addTenant();
        await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
        for (const id of ['no-such-user', ...INHERITED_NAMES]) {
          assert.equal(await store.getUser(tenant.id, id), undefined, id);
          await assert.rejects(store.recordUserLocked(tenant.id, id, { by: 'alice', revokedSessions: false }), isNotFound('USER_NOT_FOUND'), id);
          await assert.rejects(store.recordUserUnlocked(tenant.id, id, 'alice'), isNotFound('USER_NOT_FOUND'), id);
        }
        const removal = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [], removedUserIds: [...INHERITED_NAMES], deltaLink: null });
        assert.deepEqual(removal.removed, []);
        assert.deepEqual(await store.countUsers(tenant.id), { total: 1, enabled: 1, disabled: 0, locked: 0 });
      });

      it('clears the product’s lock when the user is found enabled, and reports it', async () => {
        const tenant = await addTenant();
        await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
        clock.advance(1_000);
        await store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: false });
        clock.advance(60_000);
        const summary = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1', { accountEnabled: true })], deltaLink: null });
        assert.deepEqual(summary.locksCleared.map((u) => u.id), ['u1']);
        assert.equal(summary.written, true);
        const user = await store.getUser(tenant.id, 'u1');
        assert.equal(user?.accountEnabled, true);
        assert.equal(user?.lock, null);
        assert.equal(user?.lastChangedAt, clock.now());
      });

      it('does not let a Graph round that started before a lock undo the lock', async () => {
        const tenant = await addTenant();
        await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
        clock.advance(1_000);
        const roundStarted = clock.now();
        clock.advance(500);
        await store.recordUserLocked(tenant.id, 'u1', { by: 'alice', revokedSessions: false });
        clock.advance(500);
        const summary = await store.applyUserChanges(tenant.id, {
          observedAt: roundStarted,
          users: [observed('u1', { accountEnabled: true, displayName: 'Renamed' })],
          deltaLink: null,
        });
        assert.deepEqual(summary.locksCleared, []);
        const user = await store.getUser(tenant.id, 'u1');
        assert.equal(user?.accountEnabled, false);
        assert.equal(user?.lock?.by, 'alice');
        assert.equal(user?.displayName, 'Renamed', 'the rest of what the round saw is still applied');
      });

      it('removes users Graph reports @removed, and on a full round every user it no longer lists', async () => {
        const tenant = await addTenant();
        await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: ['u1', 'u2', 'u3'].map((id) => observed(id)), deltaLink: null });
        const removed = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [], removedUserIds: ['u2'], deltaLink: null });
        assert.deepEqual(removed.removed.map((u) => u.id), ['u2']);
        const full = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: 'd', fullRound: true });
        assert.deepEqual(full.removed.map((u) => u.id), ['u3']);
        assert.deepEqual((await store.listUsers(tenant.id)).users.map((u) => u.id), ['u1']);
      });

      it('applies a round page by page: the delta link moves only with the last page, and a full round removes on its last page only the users none of its pages listed', async () => {
        const tenant = await addTenant();
        await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: ['u1', 'u2', 'u3', 'u4'].map((id) => observed(id)), deltaLink: 'd-1' });
        const events: StoreEvent[] = [];
        const unsubscribe = store.onDidChange((event) => events.push(event));
        clock.advance(1_000);
        const first = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1'), observed('u5')], fullRound: true });
        assert.deepEqual(first.removed, [], 'no removal before the round ends');
        assert.equal(await store.getDeltaLink(tenant.id), 'd-1', 'the link stays until the last page');
        assert.equal((await store.countUsers(tenant.id)).total, 5, 'the page is applied at once');
        const last = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u3')], removedUserIds: ['u5'], deltaLink: 'd-2', fullRound: true, earlierUserIds: new Set(['u1', 'u5']) });
        unsubscribe();
        assert.deepEqual(last.removed.map((u) => u.id).sort(), ['u2', 'u4', 'u5']);
        assert.equal(await store.getDeltaLink(tenant.id), 'd-2');
        assert.deepEqual((await store.listUsers(tenant.id)).users.map((u) => u.id).sort(), ['u1', 'u3']);
        const reloaded = events.filter((event) => event.type === 'users-reloaded');
        assert.ok(reloaded.length >= 1 && reloaded.length <= 2, 'a full round\'s pages are told as users-reloaded');
        assert.deepEqual(events.filter((event) => event.type === 'users'), [], 'not user by user');
        await reopen();
        assert.equal(await store.getDeltaLink(tenant.id), 'd-2', 'durable');
        assert.deepEqual((await store.listUsers(tenant.id)).users.map((u) => u.id).sort(), ['u1', 'u3']);
      });

      it('lists locked users first, then disabled, then the rest; filters, searches, pages, and counts a later sync as verification', async () => {
        const tenant = await addTenant();
        await store.applyUserChanges(tenant.id, {
          observedAt: clock.now(),
          users: [
            observed('u1', { displayName: 'Ada Lovelace' }),
            observed('u2', { displayName: 'Alan Turing', accountEnabled: false }),
            observed('u3', { displayName: 'Grace Hopper' }),
          ],
          deltaLink: null,
        });
        await store.recordUserLocked(tenant.id, 'u3', { by: 'alice', revokedSessions: false });
        assert.deepEqual((await store.listUsers(tenant.id, { state: 'locked' })).users.map((u) => u.id), ['u3']);
        assert.deepEqual((await store.listUsers(tenant.id)).users.map((u) => u.id), ['u3', 'u2', 'u1']);
        assert.deepEqual((await store.listUsers(tenant.id, { state: 'disabled' })).users.map((u) => u.id), ['u2'], 'a locked user is "locked", not "disabled"');
        assert.deepEqual((await store.listUsers(tenant.id, { state: 'enabled' })).users.map((u) => u.id), ['u1']);
        assert.deepEqual((await store.listUsers(tenant.id, { text: 'TURING' })).users.map((u) => u.id), ['u2']);
        const page = await store.listUsers(tenant.id, { offset: 1, limit: 1 });
        assert.deepEqual([page.users.map((u) => u.id), page.total], [['u2'], 3]);
        assert.deepEqual(await store.countUsers(tenant.id), { total: 3, enabled: 1, disabled: 1, locked: 1 });

        clock.advance(120_000);
        await store.recordSyncSuccess(tenant.id);
        assert.equal((await store.getUser(tenant.id, 'u1'))?.lastVerifiedAt, clock.now());
      });

      it('orders a page by name in Unicode root collation order, whatever the case or accents, then by user principal name', async () => {
        const tenant = await addTenant();
        const names = ['Zoe', 'adam', 'Alice', 'bob', 'Émile', 'Ådne', 'ada'];
        await store.applyUserChanges(tenant.id, {
          observedAt: clock.now(),
          users: [
            ...names.map((displayName, index) => observed(`u${index}`, { displayName })),
            observed('same-b', { displayName: 'Same', userPrincipalName: 'Same.b@contoso.example' }),
            observed('same-a', { displayName: 'Same', userPrincipalName: 'same.a@contoso.example' }),
          ],
          deltaLink: null,
        });
        const page = await store.listUsers(tenant.id);
        assert.deepEqual(
          page.users.map((u) => u.displayName ?? u.userPrincipalName),
          ['ada', 'adam', 'Ådne', 'Alice', 'bob', 'Émile', 'Same', 'Same', 'Zoe'],
        );
        assert.deepEqual(page.users.filter((u) => u.displayName === 'Same').map((u) => u.id), ['same-a', 'same-b']);
      });

      it('keeps a quiet sync’s bookkeeping in memory at once and makes it durable by the next checkpoint', async () => {
        const tenant = await addTenant();
        await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: 'd-1' });
        clock.advance(30_000);
        await store.recordSyncAttempt(tenant.id);
        const summary = await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: 'd-2' });
        await store.recordSyncSuccess(tenant.id);
        assert.equal(summary.written, false);
        assert.deepEqual([summary.added, summary.changed, summary.removed], [[], [], []]);
        assert.equal((await store.getTenant(tenant.id))?.lastSyncAt, clock.now(), 'memory is current at once');
        assert.equal(await store.getDeltaLink(tenant.id), 'd-2');

        await store.checkpoint();
        const durable = await under.openDurable({ clock });
        try {
          assert.equal(await durable.getDeltaLink(tenant.id), 'd-2');
          assert.equal((await durable.getTenant(tenant.id))?.lastSyncAt, clock.now());
        } finally {
          await durable.close();
        }
      });

      it('makes pending bookkeeping durable when it closes', async () => {
        const tenant = await addTenant();
        clock.advance(5_000);
        await store.recordSyncSuccess(tenant.id);
        await reopen();
        assert.equal((await store.getTenant(tenant.id))?.lastSyncAt, clock.now());
      });
    });

    describe('tasks and activities', () => {
      it('takes a task from PENDING through IN_PROGRESS to COMPLETE, oldest pending first, and refuses a wrong move', async () => {
        const tenant = await addTenant();
        const first = await store.queueTask({ tenantId: tenant.id, kind: 'x', name: 'X', description: 'first', origin: 'operator', automated: false });
        clock.advance(1);
        const second = await store.queueTask({ tenantId: tenant.id, kind: 'x', name: 'X', description: 'second', origin: 'operator', automated: false });
        assert.deepEqual((await store.pendingTasks()).map((t) => t.id), [first.id, second.id]);
        await assert.rejects(store.completeTask(first.id), (error: AppError) => error.status === 409 && error.code === 'TASK_STATE');
        const started = await store.startTask(first.id);
        assert.deepEqual([started.status, started.startedAt], ['IN_PROGRESS', clock.now()]);
        clock.advance(10);
        const done = await store.completeTask(first.id, 'Done.');
        assert.deepEqual([done.status, done.finishedAt, done.description], ['COMPLETE', clock.now(), 'Done.']);
        const failed = await store.failTask(second.id, { code: 'NOPE', message: 'Could not start.' });
        assert.deepEqual([failed.status, failed.error], ['ERROR', { code: 'NOPE', message: 'Could not start.', errorId: null }]);
        assert.deepEqual(await store.pendingTasks(), []);
        assert.deepEqual((await store.listTasks()).map((t) => t.id), [second.id, first.id], 'newest first');
      });

      it('answers "not found" for an unknown task, including ids every object inherits', async () => {
        for (const id of ['no-such-task', ...INHERITED_NAMES]) {
          assert.equal(await store.getTask(id), undefined, id);
          await assert.rejects(store.startTask(id), isNotFound('TASK_NOT_FOUND'), id);
          await assert.rejects(store.failTask(id, { code: 'X', message: 'x' }), isNotFound('TASK_NOT_FOUND'), id);
        }
      });

      it('begins a task IN_PROGRESS at once, and ends tasks left IN_PROGRESS as interrupted', async () => {
        const tenant = await addTenant();
        const begun = await store.beginTask({ tenantId: tenant.id, kind: 'sync-users', name: 'Sync users', description: '', origin: 'poller', automated: true });
        assert.deepEqual([begun.status, begun.startedAt], ['IN_PROGRESS', clock.now()]);
        assert.deepEqual(await store.pendingTasks(), []);
        const interrupted = await store.failInterruptedTasks('Interrupted by a restart.');
        assert.deepEqual(interrupted.map((t) => [t.id, t.status, t.error?.code, t.error?.message]), [[begun.id, 'ERROR', 'INTERRUPTED', 'Interrupted by a restart.']]);
        assert.deepEqual(await store.failInterruptedTasks('again'), []);
      });

      it('records an activity with the tasks it queues in one step, and marks the tenant managed for operator activity', async () => {
        const tenant = await addTenant();
        clock.advance(60_000);
        const { activity, tasks } = await store.recordActivity(
          { tenantId: tenant.id, kind: 'refresh', name: 'Updating account status', description: 'd', actor: 'bob', management: true },
          [{ tenantId: tenant.id, kind: 'update-ad-cache', name: 'Update AD cache', description: '', origin: 'refresh', automated: true }],
        );
        assert.deepEqual(activity.taskIds, tasks.map((t) => t.id));
        assert.ok(tasks.every((t) => t.activityId === activity.id && t.status === 'PENDING'));
        assert.equal((await store.getTenant(tenant.id))?.lastManagementActivityAt, clock.now());
        clock.advance(60_000);
        await store.recordActivity({ tenantId: tenant.id, kind: 'external-change', name: 'Re-enabled outside m365-status', description: '', actor: 'x', management: false });
        assert.equal((await store.getTenant(tenant.id))?.lastManagementActivityAt, clock.now() - 60_000, 'automated activity does not count');
        assert.deepEqual((await store.listActivities({ tenantId: tenant.id })).map((a) => a.kind), ['external-change', 'refresh', 'tenant-added']);
        assert.deepEqual((await store.listActivities({ tenantId: tenant.id, limit: 1 })).map((a) => a.kind), ['external-change']);
        await assert.rejects(
          store.recordActivity({ tenantId: 'constructor', kind: 'refresh', name: 'n', description: '', actor: 'a', management: true }),
          isNotFound('TENANT_NOT_FOUND'),
        );
      });

      it('hides automated tasks unless asked, lists newest first, and keeps only the latest finished automated ones', async () => {
        await reopen({ automatedTaskRetention: 3 });
        const tenant = await addTenant();
        const operator = await store.queueTask({ tenantId: tenant.id, kind: 'x', name: 'X', description: '', origin: 'operator', automated: false });
        for (let i = 0; i < 5; i++) {
          const task = await store.queueTask({ tenantId: tenant.id, kind: 'sync-users', name: 'Sync users', description: `${i}`, origin: 'poller', automated: true });
          await store.startTask(task.id);
          await store.completeTask(task.id);
        }
        assert.deepEqual((await store.listTasks()).map((t) => t.id), [operator.id]);
        const all = await store.listTasks({ includeAutomated: true });
        assert.deepEqual(all.map((t) => t.description), ['4', '3', '2', '']);
      });
    });

    describe('lists of some tenants', () => {
      it('lists tasks, activities and system-log entries of the tenants asked for, chosen before the limit', async () => {
        const contoso = await addTenant('contoso.example');
        const fabrikam = await addTenant('fabrikam.example');
        const task = (tenantId: string | null, i: number) =>
          store.queueTask({ tenantId, kind: 'x', name: 'X', description: `${tenantId ?? 'none'} ${i}`, origin: 'operator', automated: false });
        const activity = (tenantId: string | null, i: number) =>
          store.recordActivity({ tenantId, kind: 'refresh', name: 'Refresh', description: `${tenantId ?? 'none'} ${i}`, actor: 'alice', management: false });
        const log = (tenantId: string | undefined, i: number) =>
          store.appendSystemLog({ level: 'info', message: `${tenantId ?? 'none'} ${i}`, ...(tenantId ? { tenantId } : {}) });
        for (let i = 0; i < 3; i++) {
          await task(contoso.id, i);
          await activity(contoso.id, i);
          await log(contoso.id, i);
        }
        // Newer than every one of contoso's: a filter after the limit would leave nothing of contoso.
        for (let i = 0; i < 5; i++) {
          await task(fabrikam.id, i);
          await task(null, i);
          await activity(fabrikam.id, i);
          await activity(null, i);
          await log(fabrikam.id, i);
          await log(undefined, i);
        }
        const only = [contoso.id];
        assert.deepEqual((await store.listTasks({ tenantIds: only, limit: 2 })).map((t) => t.description), [`${contoso.id} 2`, `${contoso.id} 1`]);
        assert.deepEqual((await store.listActivities({ tenantIds: only, limit: 2 })).map((a) => a.description), [`${contoso.id} 2`, `${contoso.id} 1`]);
        assert.deepEqual((await store.querySystemLog({ tenantIds: only, limit: 2 })).map((e) => e.message), [`${contoso.id} 2`, `${contoso.id} 1`]);
        // Several tenants; entries of no tenant are never among them; an empty list is nothing at all.
        const both = await store.listTasks({ tenantIds: [contoso.id, fabrikam.id], limit: 100 });
        assert.equal(both.length, 8);
        assert.ok(both.every((t) => t.tenantId !== null));
        assert.deepEqual(await store.listTasks({ tenantIds: [], limit: 100 }), []);
        assert.deepEqual(await store.listActivities({ tenantIds: [], limit: 100 }), []);
        assert.deepEqual(await store.querySystemLog({ tenantIds: [], limit: 100 }), []);
        assert.equal((await store.listActivities({ limit: 100 })).filter((a) => a.tenantId === null).length, 5, 'without tenantIds nothing is left out');
      });
    });

    describe('refresh', () => {
      // A rule like the refresh service's: a previous refresh that has not failed blocks a new one.
      const decide = (latest: readonly StoredTask[], tenant: StoredTenant): RefreshDecision => {
        const earlier = latest.find((task) => task.status !== 'ERROR');
        const activity = { kind: 'refresh', name: 'Updating account status', description: `Refresh of ${tenant.displayName}`, actor: 'alice', management: true } as const;
        return earlier
          ? { outcome: 'already-requested', activity, earlierTask: earlier }
          : {
              outcome: 'queued',
              activity,
              tasks: ['update-ad-cache', 'check-account-status'].map((kind) => ({ kind, name: kind, description: '', origin: 'refresh' as const, automated: true })),
            };
      };

      it('gives the decision the tasks of the tenant’s latest refresh, and records what it decided', async () => {
        const tenant = await addTenant();
        const seen: Array<readonly StoredTask[]> = [];
        const first = await store.recordRefresh(tenant.id, (latest, t) => (seen.push(latest), decide(latest, t)));
        assert.ok(first.outcome === 'queued');
        assert.deepEqual(first.tasks.map((t) => [t.tenantId, t.kind, t.activityId]), [
          [tenant.id, 'update-ad-cache', first.activity.id],
          [tenant.id, 'check-account-status', first.activity.id],
        ]);
        const second = await store.recordRefresh(tenant.id, (latest, t) => (seen.push(latest), decide(latest, t)));
        assert.ok(second.outcome === 'already-requested');
        assert.equal(second.activity.blockedByTaskId, second.earlierTask.id);
        assert.deepEqual(seen.map((latest) => latest.map((t) => t.id).sort()), [[], first.tasks.map((t) => t.id).sort()]);
        assert.equal(second.activity.description, 'Refresh of contoso.example');
      });

      it('decides 50 simultaneous refreshes of one tenant one at a time: one pair queued, 50 activities, also after a reopen', async () => {
        const tenant = await addTenant();
        const results = await Promise.all(Array.from({ length: 50 }, () => store.recordRefresh(tenant.id, decide)));
        assert.equal(results.filter((r) => r.outcome === 'queued').length, 1);
        const check = async (): Promise<void> => {
          assert.equal((await store.listTasks({ includeAutomated: true, tenantId: tenant.id })).length, 2);
          assert.equal((await store.listActivities({ tenantId: tenant.id })).filter((a) => a.kind === 'refresh').length, 50);
        };
        await check();
        await reopen();
        await check();
      });

      it('refuses a refresh of an unknown tenant without asking the decision', async () => {
        let asked = false;
        await assert.rejects(
          store.recordRefresh('__proto__', (latest, t) => ((asked = true), decide(latest, t))),
          isNotFound('TENANT_NOT_FOUND'),
        );
        assert.equal(asked, false);
      });
    });

    describe('system log', () => {
      it('keeps a bounded system log, queryable by task id, tenant and level, with details redacted', async () => {
        await reopen({ systemLogMaxEntries: 100 });
        for (let i = 0; i < 150; i++) {
          await store.appendSystemLog({ level: i % 10 === 0 ? 'error' : 'info', message: `event ${i}`, taskId: `task-${i % 3}`, tenantId: i % 2 === 0 ? 't-even' : 't-odd' });
        }
        await store.appendSystemLog({ level: 'warn', message: 'with details', details: { clientSecret: 'hunter2hunter2', appId: 'a' } });
        await reopen({ systemLogMaxEntries: 100 });
        const all = await store.querySystemLog({ limit: 1_000 });
        assert.equal(all.length, 100);
        assert.equal(all[0]?.message, 'with details');
        assert.equal(all.at(-1)?.message, 'event 51');
        const byTask = await store.querySystemLog({ taskId: 'task-1', limit: 1_000 });
        assert.ok(byTask.every((e) => e.taskId === 'task-1'));
        assert.equal(byTask.length, 33);
        assert.ok((await store.querySystemLog({ tenantId: 't-even', limit: 1_000 })).every((e) => e.tenantId === 't-even'));
        // Entries 51..149 are left; of those, 60, 70, ... 140 are errors.
        const atLeastWarn = await store.querySystemLog({ level: 'warn', limit: 1_000 });
        assert.deepEqual([atLeastWarn.filter((e) => e.level === 'error').length, atLeastWarn.filter((e) => e.level === 'warn').length], [9, 1]);
        assert.deepEqual(all[0]?.details, { clientSecret: '[redacted]', appId: 'a' });
      });
    });

    describe('events', () => {
      it('tells listeners about changes once they are made, and stops when unsubscribed', async () => {
        const events: string[] = [];
        const unsubscribe = store.onDidChange((event) => events.push(event.type));
        const tenant = await addTenant();
        await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
        unsubscribe();
        await store.appendSystemLog({ level: 'info', message: 'unheard' });
        assert.deepEqual(events, ['tenant', 'activity', 'users']);
      });

      it('refuses changes once closed', async () => {
        const tenant = await addTenant();
        const closing = store;
        await reopen();
        await assert.rejects(closing.recordSyncAttempt(tenant.id), (error: AppError) => error.status === 503 && error.code === 'STORE_CLOSED');
      });
    });
  });
}
