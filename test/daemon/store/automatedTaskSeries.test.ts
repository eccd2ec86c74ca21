import assert from 'node:assert/strict';
import { join } from 'node:path';
import { scheduledSyncTask } from '../../../daemon/services/poller';
import { DurableJsonFile } from '../../../daemon/store/durableJsonFile';
import { loadStoreFile } from '../../../daemon/store/loadStoreFile';
import type { LowdbContext } from '../../../daemon/store/lowdbContext';
import { LowdbMainFile } from '../../../daemon/store/lowdbMainFile';
import { LowdbTasks } from '../../../daemon/store/lowdbTasks';
import { MAIN_JOURNAL_FILE_NAME, MainFileJournal } from '../../../daemon/store/mainFileJournal';
import { StoreEventEmitter } from '../../../daemon/store/storeEventEmitter';
import { newTenantRecord } from '../../../daemon/store/storeRecords';
import { MAIN_FILE_SCHEMA_VERSION, mainFileSchema, type MainFile } from '../../../daemon/store/storeSchema';
import type { StoredTask } from '../../../daemon/store/storeTypes';
import { TASK_KINDS } from '../../../daemon/tasks/taskKinds';
import { ManualClock } from '../../support/manualClock';
import { tempDataDir } from '../../support/tempDataDir';

describe('store: the records of quiet rounds, against a long task list (the real main file and task store)', function () {
  let cleanup: () => Promise<void>;
  let main: LowdbMainFile;
  let tasks: LowdbTasks;
  let clock: ManualClock;
  const tenantIds: string[] = [];

  before(async () => {
    let dir: string;
    ({ dir, cleanup } = await tempDataDir('m365-task-series'));
    clock = new ManualClock();
    const file = new DurableJsonFile<MainFile>(join(dir, 'store.json'), { indent: 1 });
    const empty = (): MainFile => ({ schemaVersion: MAIN_FILE_SCHEMA_VERSION, nextSeq: 1, tenants: [], appProfiles: [], tasks: [], activities: [] });
    const { journal } = await MainFileJournal.open(join(dir, MAIN_JOURNAL_FILE_NAME));
    main = new LowdbMainFile(await loadStoreFile(file, mainFileSchema, empty, { current: MAIN_FILE_SCHEMA_VERSION }), file, journal);
    // As the file store wires its sections, without the checkpoint timer: writes are the main file's own.
    const context: LowdbContext = {
      clock,
      main,
      events: new StoreEventEmitter(),
      assertOpen: () => undefined,
      saveMainLater: () => main.markLazy(),
      saveMainChange: (change) => {
        main.markLazy();
        return main.saveChange(change);
      },
      carryMainLater: () => main.markCarried(),
      saveSyncStateLater: () => undefined,
      reportFailure: (error) => {
        throw error;
      },
      scheduleCheckpoint: () => undefined,
    };
    tasks = new LowdbTasks(context, { automatedTaskRetention: 50, activityRetention: 10_000 });
    for (const name of ['quiet.example', 'busy.example']) {
      const tenant = newTenantRecord({ tenantIdOrDomain: name, appId: '00000000-0000-0000-0000-000000000001', credentialKind: 'secret', by: 'alice' }, clock.now());
      main.addTenant(tenant);
      tenantIds.push(tenant.id);
    }
    // A long history of another tenant's finished tasks, as a busy fleet leaves behind.
    const busy = tenantIds[1] as string;
    for (let i = 0; i < 3_000; i++) {
      const task = tasks.pushTask({ tenantId: busy, kind: TASK_KINDS.checkAccountStatus.kind, name: TASK_KINDS.checkAccountStatus.name, description: `Check ${i}.`, origin: 'refresh', automated: false }, null);
      Object.assign(task, { status: 'COMPLETE', startedAt: task.createdAt, finishedAt: task.createdAt } satisfies Partial<StoredTask>);
    }
    await main.save();
  });

  after(async () => {
    await main.journal.close();
    await cleanup();
  });

  async function quietRound(tenantId: string): Promise<void> {
    clock.advance(5_000);
    const task = await tasks.beginTask(scheduledSyncTask(tenantId));
    await tasks.completeTask(task.id, 'Delta sync: no changes.');
  }

  it('reads only the newest few task records per quiet round, however many tasks are kept, and keeps one record of a run of alike rounds', async () => {
    const quiet = tenantIds[0] as string;
    await quietRound(quiet);
    await quietRound(quiet);
    const kept = main.data.tasks.length;

    let reads = 0;
    main.data.tasks = new Proxy(main.data.tasks, {
      get(target, property, receiver) {
        if (typeof property === 'string' && /^\d+$/.test(property)) reads++;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const rounds = 20;
    for (let i = 0; i < rounds; i++) await quietRound(quiet);

    assert.ok(kept > 3_000);
    assert.ok(reads <= rounds * 4, `${reads} task records read over ${rounds} quiet rounds with ${kept} tasks kept`);
    assert.equal(main.data.tasks.length, kept, 'each quiet round replaced the record of the one before');
    const series = (await tasks.listTasks({ tenantId: quiet, includeAutomated: true })).map((task) => [task.description, task.finishedAt]);
    assert.deepEqual(series, [['Delta sync: no changes.', clock.now()]]);
    assert.equal((await tasks.listTasks({ tenantId: tenantIds[1] as string, limit: 5_000 })).length, 3_000, 'no other task was dropped');
  });
});
