import assert from 'node:assert/strict';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { AppError } from '../../../daemon/errors/AppError';
import { LowdbStore, USERS_DIR_NAME } from '../../../daemon/store/lowdbStore';
import { STORE_SCHEMA_VERSION, USERS_FILE_SCHEMA_VERSION } from '../../../daemon/store/storeSchema';
import { usersLogRecordSchema, usersSnapshotSchema } from '../../../daemon/store/usersLogSchema';
import { usersLogShapes } from '../../../daemon/store/usersLogShapes';
import { ManualClock } from '../../support/manualClock';
import { tempDataDir } from '../../support/tempDataDir';
import { observed } from './storeContract';

const user = {
  id: 'u1',
  userPrincipalName: 'u1@contoso.example',
  displayName: 'User One',
  accountEnabled: true,
  onPremisesSyncEnabled: null,
  lastChangedAt: 1_000,
  lastVerifiedAt: 2_000,
  lock: { by: 'alice', at: 1_500, revokedSessions: false },
};

/** The same user as a tuple, as users files hold it from version 2 on. */
const tuple = ['u1', 'u1@contoso.example', 'User One', 1, 1_000, 2_000];

/** Every field of a user made wrong in each way a file could have it wrong, and a few that are right, in both forms. */
function userVariants(): unknown[] {
  const wrongValues: unknown[] = [undefined, null, '', 'x', -1, 1.5, 2 ** 60, true, 8, [], {}];
  const variants: unknown[] = [user, { ...user, lock: null, displayName: null, onPremisesSyncEnabled: true }, { ...user, extra: 1 }, null, [], 'u1'];
  for (const key of Object.keys(user)) for (const value of wrongValues) variants.push({ ...user, [key]: value });
  for (const key of Object.keys(user.lock)) for (const value of wrongValues) variants.push({ ...user, lock: { ...user.lock, [key]: value } });
  variants.push(tuple, [...tuple, user.lock], [...tuple, null], [...tuple, user.lock, 1], tuple.slice(0, 5), ['u1', 'u1@contoso.example', null, 7, 0, 0]);
  for (let index = 0; index < tuple.length; index++) {
    for (const value of wrongValues) variants.push(tuple.map((field, i) => (i === index ? value : field)));
  }
  for (const key of Object.keys(user.lock)) for (const value of wrongValues) variants.push([...tuple, { ...user.lock, [key]: value }]);
  return variants;
}

function recordVariants(): unknown[] {
  const variants: unknown[] = [{}, null, [], { removed: ['u2'], deltaLink: null, deltaRound: 3, verified: [[5, ['u1']]] }];
  for (const u of userVariants()) variants.push({ set: [u] }, { set: [user, u], deltaLink: 'd-1' });
  for (const value of [undefined, null, 'u2', [1], [null], ['u2']]) variants.push({ removed: value });
  for (const value of [undefined, null, 1, 'd-2']) variants.push({ deltaLink: value });
  for (const value of [undefined, null, -1, 1.5, '1', 4]) variants.push({ deltaRound: value });
  for (const value of [[[5]], [[5, ['u1'], 1]], [['5', ['u1']]], [[5, 'u1']], [[5, [1]]], [[5, []]], [5], 'x']) variants.push({ verified: value });
  variants.push({ activities: [] }, { set: [user], activities: [] });
  return variants;
}

function snapshotVariants(): unknown[] {
  const snapshot = { schemaVersion: STORE_SCHEMA_VERSION, tenantId: 't1', generation: 2, deltaLink: 'd-1', deltaRound: 4, users: [user] };
  const variants: unknown[] = [snapshot, { ...snapshot, deltaRound: undefined }, { ...snapshot, activities: [] }];
  for (const key of Object.keys(snapshot)) {
    for (const value of [undefined, null, '', -1, 1.5, USERS_FILE_SCHEMA_VERSION, USERS_FILE_SCHEMA_VERSION + 1, 'x', []]) variants.push({ ...snapshot, [key]: value });
  }
  for (const u of userVariants()) variants.push({ ...snapshot, users: [user, u] });
  return variants;
}

describe('usersLogShapes: the users files checked without copying them', () => {
  it('accepts no log record the users log schema refuses, and accepts the common ones it allows', () => {
    let accepted = 0;
    for (const value of recordVariants()) {
      if (!usersLogShapes.isRecord(value)) continue;
      accepted++;
      assert.ok(usersLogRecordSchema.safeParse(value).success, `accepted a record the schema refuses: ${JSON.stringify(value)}`);
    }
    assert.ok(usersLogShapes.isRecord({ set: [user], removed: ['u2'], deltaLink: 'd-1', deltaRound: 1, verified: [[5, ['u1']]] }));
    assert.ok(usersLogShapes.isRecord({ set: [tuple, tuple], deltaLink: 'd-1' }), 'users as tuples');
    // A locked user stays on the quick path: otherwise one lock would send every user of its tenant through zod.
    assert.ok(usersLogShapes.isRecord({ set: [tuple, [...tuple, user.lock]] }), 'a tuple with its lock');
    assert.ok(accepted > 5, `only ${accepted} records accepted`);
  });

  it('accepts no snapshot the users log schema refuses', () => {
    let accepted = 0;
    for (const value of snapshotVariants()) {
      if (!usersLogShapes.isSnapshot(value)) continue;
      accepted++;
      assert.ok(usersSnapshotSchema.safeParse(value).success, `accepted a snapshot the schema refuses: ${JSON.stringify(value)}`);
    }
    assert.ok(accepted >= 2, `only ${accepted} snapshots accepted`);
    assert.ok(usersLogShapes.isSnapshot({ schemaVersion: USERS_FILE_SCHEMA_VERSION, tenantId: 't1', generation: 2, deltaLink: null, users: [tuple] }), 'a snapshot of version 2');
  });

  /**
   * Opens a store holding one tenant's log with `record` appended under its right checksum (so it is no torn
   * tail, but a record this build did not write), and checks that it refuses to start naming the log and `field`.
   */
  async function refusesNamingField(record: unknown, field: RegExp): Promise<void> {
    const { dir, cleanup } = await tempDataDir();
    try {
      const clock = new ManualClock();
      const store = await LowdbStore.open({ dataDir: dir, clock });
      const tenant = await store.addTenant({ tenantIdOrDomain: 'contoso.example', appId: 'app-1', credentialKind: 'secret', by: 'alice' });
      await store.applyUserChanges(tenant.id, { observedAt: clock.now(), users: [observed('u1')], deltaLink: 'd-1' });
      await store.close();
      const logPath = join(dir, USERS_DIR_NAME, `${tenant.id}.log`);
      const json = JSON.stringify(record);
      await appendFile(logPath, `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`);
      await assert.rejects(LowdbStore.open({ dataDir: dir, clock }), (error: AppError) => {
        assert.equal(error.code, 'STORE_UNREADABLE');
        assert.ok(error.message.includes(logPath), error.message);
        assert.match(error.message, field);
        return true;
      });
    } finally {
      await cleanup();
    }
  }

  it('still refuses to start, naming the file and the field, on a whole record of the wrong shape', async () => {
    await refusesNamingField({ set: [{ ...user, id: 'u2', accountEnabled: 'yes' }] }, /wrong shape at "set\.0\.accountEnabled"/);
  });

  it('names the field of a user tuple that is wrong', async () => {
    await refusesNamingField({ set: [['u2', 'u2@contoso.example', 'User Two', 'enabled', 1_000, 2_000]] }, /wrong shape at "set\.0\.3"/);
  });
});
