import assert from 'node:assert/strict';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppError } from '../../../daemon/errors/AppError';
import { LowdbStore, MAIN_FILE_NAME } from '../../../daemon/store/lowdbStore';
import { MAIN_JOURNAL_FILE_NAME } from '../../../daemon/store/mainFileJournal';
import { ManualClock } from '../../support/manualClock';
import { tempDataDir } from '../../support/tempDataDir';
import { crashCopy } from './crashCopy';
import { observed } from './storeContract';

describe('LowdbStore: changes to the main file through its journal (real files)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let store: LowdbStore;
  const copies: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDataDir());
    clock = new ManualClock();
    store = await LowdbStore.open({ dataDir: dir, clock, checkpointIntervalMs: 60_000 });
  });

  afterEach(async () => {
    await store.close();
    for (const close of copies.splice(0)) await close();
    await cleanup();
  });

  function register(name: string) {
    return store.addTenant({ tenantIdOrDomain: name, appId: 'app-1', credentialKind: 'secret', by: 'alice' });
  }

  /** What a crash would leave, opened as the store here is; closed and removed after the test. */
  async function afterCrash(from = dir): Promise<{ store: LowdbStore; dir: string }> {
    const copy = await crashCopy(from, { clock, checkpointIntervalMs: 60_000 });
    copies.push(copy.close);
    return copy;
  }

  const journalPath = () => join(dir, MAIN_JOURNAL_FILE_NAME);
  const mainPath = () => join(dir, MAIN_FILE_NAME);

  it('makes a registration durable with one append to store.journal, leaving store.json as it was', async () => {
    const first = await register('contoso.example');
    const mainBefore = await readFile(mainPath(), 'utf8');
    const second = await register('fabrikam.example');

    assert.equal(await readFile(mainPath(), 'utf8'), mainBefore, 'store.json was rewritten');
    const lines = (await readFile(journalPath(), 'utf8')).split('\n').filter(Boolean);
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /^[0-9a-f]{8} \{"tenantAdded":\{"id":"[^"]+".*"fabrikam\.example"/);

    const crashed = await afterCrash();
    assert.deepEqual((await crashed.store.listTenants()).map((t) => t.tenantIdOrDomain).sort(), ['contoso.example', 'fabrikam.example']);
    const activities = await crashed.store.listActivities({ limit: 10 });
    assert.deepEqual(
      activities.map((a) => [a.kind, a.tenantId]),
      [
        ['tenant-added', second.id],
        ['tenant-added', first.id],
      ],
    );
    // Numbering goes on after the one put back.
    const next = await crashed.store.recordActivity({ tenantId: second.id, kind: 'refresh', name: 'Refresh', description: '', actor: 'bob', management: true });
    assert.ok(next.activity.seq > (activities[0]?.seq ?? Infinity));
  });

  it('writes store.json at the next checkpoint and empties the journal, and a restart finds the tenant there', async () => {
    await register('contoso.example');
    const added = await register('fabrikam.example');
    assert.ok((await stat(journalPath())).size > 0);

    await store.checkpoint();
    assert.equal((await stat(journalPath())).size, 0);
    assert.match(await readFile(mainPath(), 'utf8'), /fabrikam\.example/);
    const crashed = await afterCrash();
    assert.equal((await crashed.store.getTenant(added.id))?.tenantIdOrDomain, 'fabrikam.example');
  });

  it('does not bring back a tenant removed after its registration when the journal kept its record through a crash', async () => {
    await register('contoso.example');
    const added = await register('fabrikam.example');
    const journal = await readFile(journalPath());
    await store.removeTenant(added.id, 'bob');
    await store.checkpoint();
    // As if emptying the journal had not reached the disk: store.json is newer than its record.
    await writeFile(journalPath(), journal);

    const crashed = await afterCrash();
    assert.deepEqual((await crashed.store.listTenants()).map((t) => t.tenantIdOrDomain), ['contoso.example']);
    const kinds = (await crashed.store.listActivities({ tenantId: added.id })).map((a) => a.kind);
    assert.deepEqual(kinds, ['tenant-removed', 'tenant-added']);
  });

  it('drops a torn last record, then appends after the last whole one and keeps both through the next crash', async () => {
    await register('contoso.example');
    await register('fabrikam.example');
    const whole = await readFile(journalPath());
    // A crash in the middle of an append: the start of a record, without its end.
    await appendFile(journalPath(), whole.subarray(0, Math.floor(whole.length / 2)));

    const crashed = await afterCrash();
    assert.deepEqual((await crashed.store.listTenants()).map((t) => t.tenantIdOrDomain).sort(), ['contoso.example', 'fabrikam.example']);
    assert.equal((await stat(join(crashed.dir, MAIN_JOURNAL_FILE_NAME))).size, whole.length, 'the torn tail is still there');
    await crashed.store.addTenant({ tenantIdOrDomain: 'northwind.example', appId: 'app-1', credentialKind: 'secret', by: 'alice' });

    const again = await afterCrash(crashed.dir);
    assert.deepEqual((await again.store.listTenants()).map((t) => t.tenantIdOrDomain).sort(), ['contoso.example', 'fabrikam.example', 'northwind.example']);
  });

  it('refuses to open a journal damaged before its last record, naming the file, and leaves it as it was', async () => {
    await register('contoso.example');
    await register('fabrikam.example');
    await register('northwind.example');
    const whole = await readFile(journalPath());
    const damaged = Buffer.from(whole);
    damaged[20] = damaged[20] === 0x41 ? 0x42 : 0x41; // inside the first record's JSON: its CRC no longer matches
    await store.close();
    await writeFile(journalPath(), damaged);
    // Closing wrote store.json with every tenant: the damage is in records it already holds, and is refused all the same.

    await assert.rejects(LowdbStore.open({ dataDir: dir, clock }), (error: AppError) => {
      assert.equal(error.code, 'STORE_UNREADABLE');
      assert.match(error.message, /store\.journal has a damaged record at line 1, before its last one/);
      return true;
    });
    assert.deepEqual(await readFile(journalPath()), damaged);
    // With the damage moved aside, the store opens with every tenant (closing had written them to store.json).
    await writeFile(journalPath(), '');
    store = await LowdbStore.open({ dataDir: dir, clock });
    assert.equal((await store.listTenants()).length, 3);
  });

  it('writes a tenant with store.json while a write of it is under way, instead of ahead of it in the journal', async () => {
    await register('contoso.example');
    // In the journal, for the checkpoint below to write store.json.
    await register('northwind.example');
    const writing = store.checkpoint();
    const added = await register('fabrikam.example');
    await writing;

    assert.equal((await stat(journalPath())).size, 0);
    assert.match(await readFile(mainPath(), 'utf8'), new RegExp(added.id));
  });

  it("makes an operator's refresh, a task's progress, a tenant's new error, status and health, a rotation and a removal durable in the journal, leaving store.json as it was", async () => {
    const first = await register('contoso.example');
    const second = await register('fabrikam.example');
    await store.checkpoint();
    const mainBefore = await readFile(mainPath(), 'utf8');
    const refresh = await store.recordActivity({ tenantId: first.id, kind: 'refresh', name: 'Refresh', description: 'asked', actor: 'bob', management: true }, [
      { tenantId: first.id, kind: 'update-ad-cache', name: 'Update AD cache', description: '', origin: 'refresh', automated: false },
    ]);
    const task = refresh.tasks[0]!;
    await store.startTask(task.id);
    clock.advance(1_000);
    await store.completeTask(task.id, 'Synced.');
    await store.recordSyncFailure(first.id, { category: 'network', code: 'ECONNRESET', message: 'The connection was reset.' });
    await store.recordTenantStatus(first.id, 'STALE', 'no successful sync for a day');
    await store.recordCredentialHealth(first.id, {
      checkedAt: clock.now(),
      canGetToken: false,
      failure: { code: 'AADSTS7000215', message: 'The secret is wrong.', remedy: 'Rotate it.' },
      grantedRoles: [],
      missingRoles: [],
      missingOptionalRoles: [],
      credentialExpiresAt: null,
    });
    await store.recordCredentialsRotated(first.id, 'certificate', 'carol');
    await store.removeTenant(second.id, 'dave');
    assert.equal(await readFile(mainPath(), 'utf8'), mainBefore, 'store.json is not rewritten for any of them');
    const journalBytes = (await stat(journalPath())).size;
    assert.ok(journalBytes > 0 && journalBytes < 16 * 1024, `${journalBytes} bytes of journal for eight changes`);

    const crashed = await afterCrash();
    const tenants = await crashed.store.listTenants();
    assert.deepEqual(tenants.map((t) => t.id), [first.id], 'the removal is kept');
    const tenant = tenants[0]!;
    assert.equal(tenant.lastError?.code, 'ECONNRESET');
    assert.equal(tenant.status, 'STALE');
    assert.equal(tenant.credentialKind, 'certificate');
    assert.equal(tenant.credentialHealth, null, 'a rotation clears the health of the old credential, as in memory');
    assert.deepEqual(await crashed.store.getTask(task.id), await store.getTask(task.id), 'the task as it finished');
    assert.deepEqual(await crashed.store.listActivities({ limit: 20 }), await store.listActivities({ limit: 20 }), 'every activity, in order');
    assert.deepEqual(await crashed.store.getTenant(first.id), await store.getTenant(first.id), 'the tenant as memory holds it');
    // Numbering goes on after everything put back.
    const next = await crashed.store.recordActivity({ tenantId: first.id, kind: 'refresh', name: 'Refresh', description: '', actor: 'bob', management: true });
    assert.ok(next.activity.seq > Math.max(...(await store.listActivities({ limit: 20 })).map((a) => a.seq)));
  });

  it('never replays a change over a newer state store.json holds, when emptying the journal did not reach the disk', async () => {
    const tenant = await register('contoso.example');
    await store.checkpoint();
    await store.recordSyncFailure(tenant.id, { category: 'network', code: 'ECONNRESET', message: 'The connection was reset.' });
    const stale = await readFile(journalPath());
    await store.recordSyncSuccess(tenant.id);
    await store.checkpoint();
    assert.equal((await stat(journalPath())).size, 0, 'the checkpoint emptied the journal');
    await writeFile(journalPath(), stale);

    const crashed = await afterCrash();
    assert.equal((await crashed.store.getTenant(tenant.id))?.lastError, null, 'the error store.json no longer has stays cleared');
  });

  it('folds a journal grown past its bound into store.json at once', async () => {
    const tenant = await register('contoso.example');
    await store.checkpoint();
    const mainIno = (await stat(mainPath())).ino;
    const long = 'x'.repeat(20_000);
    for (let i = 0; (await stat(mainPath())).ino === mainIno; i++) {
      assert.ok(i < 400, 'store.json was written once the journal passed its bound');
      await store.recordSyncFailure(tenant.id, { category: 'network', code: `E${i}`, message: long });
    }
    assert.ok((await stat(journalPath())).size < 64 * 1024, 'and the journal was emptied');
    assert.match((await store.getTenant(tenant.id))?.lastError?.code ?? '', /^E\d+$/);
  });

  it('keeps activities in order when a lock the users log carries came before a registration the journal holds', async () => {
    const tenant = await register('contoso.example');
    await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: null });
    const locked = await store.recordUserLocked(tenant.id, 'u1', { by: 'bob', revokedSessions: false });
    const added = await register('fabrikam.example');

    const firstAdded = (await store.listActivities({ tenantId: tenant.id })).at(-1);
    const secondAdded = (await store.listActivities({ tenantId: added.id }))[0];

    const crashed = await afterCrash();
    const activities = await crashed.store.listActivities({ limit: 10 });
    assert.deepEqual(
      activities.map((a) => a.id),
      [secondAdded?.id, locked.activity.id, firstAdded?.id],
    );
  });
});
