import assert from 'node:assert/strict';
import { fetch } from 'undici';
import type { DaemonEvent, TenantView, UserPage } from '../../../protocol/daemonApi';
import { eventTenantId } from '../../../daemon/server/routes/eventRoutes';
import { DaemonHarness } from '../../support/daemonHarness';
import { readSseMessages } from '../../support/sseMessages';

/** The simulator's delta pages hold 200 users, as Graph's do by default. */
const USERS = 2_000;
const PAGES = USERS / 200;

describe('services: a tenant\'s first sync goes page by page (the real poller, sync and file store, simulator over HTTPS)', function () {
  this.timeout(120_000);
  let harness: DaemonHarness;

  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '1h' });
  });
  after(async () => harness?.stop());

  it('answers an API request made after its first page before the sync ends, with the users applied so far, and sends one users-reloaded per page instead of the users', async () => {
    const controller = new AbortController();
    const response = await fetch(`${harness.daemon.url}/v1/events`, { headers: { authorization: `Bearer ${harness.daemon.token}` }, signal: controller.signal });
    const events: DaemonEvent[] = [];
    let hello = false;
    const reading = readSseMessages(response.body as AsyncIterable<Uint8Array>, (message) => {
      if (message.event === 'hello') hello = true;
      if (message.event === 'message') events.push(JSON.parse(message.data) as DaemonEvent);
    }).catch(() => undefined);
    await harness.until(() => hello, 5_000, 'the hello');

    // Asked the moment the first page is applied, as the extension would ask for the tenant's users.
    let askedDuringSync: Promise<{ page: UserPage; tenant: TenantView }> | undefined;
    const unsubscribe = harness.daemon.store.onDidChange((event) => {
      if (event.type !== 'users-reloaded' || askedDuringSync) return;
      const tenantId = event.tenantId;
      askedDuringSync = Promise.all([
        harness.api<UserPage>('GET', `/v1/tenants/${tenantId}/users?limit=5`),
        harness.api<TenantView>('GET', `/v1/tenants/${tenantId}`),
      ]).then(([page, tenant]) => ({ page: page.body, tenant: tenant.body }));
    });
    try {
      const { id } = await harness.registerTenant({ users: USERS });
      const synced = await harness.until(async () => {
        const view = (await harness.api<TenantView>('GET', `/v1/tenants/${id}`)).body;
        return view.asOf !== null && view.counts.total === USERS ? view : undefined;
      }, 60_000, 'the first sync');
      assert.ok(askedDuringSync, 'a users-reloaded event came');
      const during = await askedDuringSync;
      assert.equal(during.tenant.id, id);
      assert.equal(during.tenant.asOf, null, 'the request was answered before the sync ended');
      assert.ok(during.page.total > 0 && during.page.total < USERS, `the users page showed the ${during.page.total} users applied so far, not none and not all ${USERS}`);
      assert.equal(during.page.users.length, 5);
      assert.equal(synced.counts.total, USERS);

      await harness.until(() => events.some((event) => event.type === 'tenant' && event.tenant.id === id && event.tenant.asOf !== null), 10_000, 'the tenant event of the synced tenant');
      const ofTenant = events.filter((event) => eventTenantId(event) === id);
      const reloaded = ofTenant.filter((event) => event.type === 'users-reloaded').length;
      assert.ok(reloaded >= PAGES - 1 && reloaded <= PAGES + 1, `one users-reloaded per page of ${PAGES}, got ${reloaded}`);
      assert.equal(ofTenant.filter((event) => event.type === 'users').length, 0, 'no event carries the users themselves');
      // Each page: users-reloaded and the tenant's new counts; then a few for registration and the task.
      assert.ok(ofTenant.length <= 2 * (PAGES + 1) + 10, `${ofTenant.length} events for a ${PAGES}-page first sync`);
    } finally {
      unsubscribe();
      controller.abort();
      await reading;
    }
  });
});
