import type { Low } from 'lowdb';
import type { DurableJsonFile } from './durableJsonFile';
import { JournaledFile } from './seqJournal';
import { journalRecordSeq, type MainChangeRecord, type MainFileJournal, type MainJournalRecord } from './mainFileJournal';
import type { MainFile } from './storeSchema';
import type { StoredActivity, StoredTask, StoredTenant } from './storeTypes';
import { tenantNotFound } from '../errors/tenantNotFound';

/** A change to the main file as its journal record carries it, less the number the record is given. */
export type MainChange = Omit<MainChangeRecord, 'seq'>;

/**
 * `store.json` in memory: tenants, tasks and activities, with indexes by id. Ids come from outside (a
 * URL path), so lookups go through Maps: an id such as `constructor` or `__proto__` is simply not there.
 * A change is made durable in its journal (`MainFileJournal`), app profiles and checkpoints by writing the file.
 */
export class LowdbMainFile {
  readonly file: DurableJsonFile<MainFile>;
  readonly journal: MainFileJournal;
  readonly #db: Low<MainFile>;
  readonly #stored: JournaledFile<MainFile, MainJournalRecord>;
  readonly #tenants = new Map<string, StoredTenant>();
  readonly #tasks = new Map<string, StoredTask>();
  #carried = false;

  constructor(db: Low<MainFile>, file: DurableJsonFile<MainFile>, journal: MainFileJournal) {
    this.#db = db;
    this.file = file;
    this.journal = journal;
    // The poller's records go out with any write of the file.
    this.#stored = new JournaledFile(db, file, journal, () => {
      this.#carried = false;
    });
    for (const tenant of db.data.tenants) this.#tenants.set(tenant.id, tenant);
    for (const task of db.data.tasks) this.#tasks.set(task.id, task);
  }

  get data(): MainFile {
    return this.#db.data;
  }

  /** Whether bookkeeping is waiting in memory for the next checkpoint. */
  get lazy(): boolean {
    return this.#stored.lazy;
  }

  markLazy(): void {
    this.#stored.markLazy();
  }

  /** Whether changes are waiting that go out with the next write of the file, not on their own. */
  get carried(): boolean {
    return this.#carried;
  }

  markCarried(): void {
    this.#carried = true;
  }

  /**
   * Every record numbered below this (`nextSeq` as of the last write that finished, or as loaded) is in
   * the file on disk, or was dropped from it by retention: what was numbered since lives only in memory,
   * or in a users log that carries it until the file catches up.
   */
  get durableSeq(): number {
    return this.#stored.durableSeq;
  }

  save(): Promise<void> {
    return this.#stored.save();
  }

  /**
   * Makes a tenant just added, and its activity, durable with one append to the journal instead of a write
   * of the whole file (see `JournaledFile.saveRecord`); the file catches up at a later write.
   */
  saveTenantAdded(tenant: StoredTenant, activity: StoredActivity): Promise<void> {
    return this.#stored.saveRecord(() => ({ tenantAdded: tenant, activity }));
  }

  /**
   * Makes a change just made in memory durable with one append to the journal, as `saveTenantAdded` does; to
   * be called in the same synchronous step as the change, since the record takes the objects as they are now.
   */
  saveChange(change: MainChange): Promise<void> {
    return this.#stored.saveRecord(() => ({ seq: this.nextSeq(), ...change }));
  }

  /**
   * Puts back, on open, the changes the journal holds that the file was not written with since: those
   * numbered from the file's `nextSeq` on, in the order they were made. Returns how many.
   */
  replayJournal(records: readonly MainJournalRecord[]): number {
    // Every start reads the journal, almost always empty: the activities are indexed only when it is not.
    if (records.length === 0) return 0;
    const data = this.#db.data;
    const known = new Set(data.activities.map((activity) => activity.id));
    let replayed = 0;
    for (const record of records) {
      const seq = journalRecordSeq(record);
      if (seq < this.durableSeq) continue;
      const activities = 'tenantAdded' in record ? [record.activity] : (record.activities ?? []);
      if ('tenantAdded' in record) {
        if (!this.#tenants.has(record.tenantAdded.id)) this.addTenant(record.tenantAdded);
      } else {
        for (const tenant of record.tenants ?? []) this.#putTenant(tenant);
        for (const task of record.tasks ?? []) this.#putTask(task);
        for (const tenantId of record.removedTenantIds ?? []) this.removeTenant(tenantId);
      }
      for (const activity of activities) {
        if (known.has(activity.id)) continue;
        known.add(activity.id);
        data.activities.push(activity);
        const tenant = activity.management && activity.tenantId !== null ? this.#tenants.get(activity.tenantId) : undefined;
        if (tenant) tenant.lastManagementActivityAt = Math.max(tenant.lastManagementActivityAt, activity.at);
      }
      data.nextSeq = Math.max(data.nextSeq, seq + 1);
      replayed++;
    }
    if (data.activities.some((activity, i) => i > 0 && (data.activities[i - 1] as StoredActivity).seq > activity.seq)) data.activities.sort((a, b) => a.seq - b.seq);
    return replayed;
  }

  /** A tenant as a record has it: in place of the one in memory, where it stood in the list. */
  #putTenant(tenant: StoredTenant): void {
    const present = this.#tenants.get(tenant.id);
    if (!present) return this.addTenant(tenant);
    const tenants = this.#db.data.tenants;
    tenants[tenants.indexOf(present)] = tenant;
    this.#tenants.set(tenant.id, tenant);
  }

  #putTask(task: StoredTask): void {
    const present = this.#tasks.get(task.id);
    if (!present) return this.addTask(task);
    const tasks = this.#db.data.tasks;
    const at = tasks.lastIndexOf(present);
    if (at >= 0) tasks[at] = task;
    else tasks.push(task);
    this.#tasks.set(task.id, task);
  }

  /** Resolves once neither the file nor its journal is being written. */
  async idle(): Promise<void> {
    await Promise.all([this.file.idle(), this.journal.idle()]);
  }

  nextSeq(): number {
    return this.#db.data.nextSeq++;
  }

  findTenant(tenantId: string): StoredTenant | undefined {
    return this.#tenants.get(tenantId);
  }

  requireTenant(tenantId: string): StoredTenant {
    const tenant = this.#tenants.get(tenantId);
    if (!tenant) throw tenantNotFound(tenantId);
    return tenant;
  }

  addTenant(tenant: StoredTenant): void {
    this.#db.data.tenants.push(tenant);
    this.#tenants.set(tenant.id, tenant);
  }

  removeTenant(tenantId: string): void {
    this.#db.data.tenants = this.#db.data.tenants.filter((t) => t.id !== tenantId);
    this.#tenants.delete(tenantId);
  }

  findTask(taskId: string): StoredTask | undefined {
    return this.#tasks.get(taskId);
  }

  addTask(task: StoredTask): void {
    this.#db.data.tasks.push(task);
    this.#tasks.set(task.id, task);
  }

  // Searched from the newest end: what is dropped is mostly the record of a tenant's round before, a
  // round of the fleet back, so a quiet round does not walk the whole task list.
  removeTasks(taskIds: ReadonlySet<string>): void {
    const tasks = this.#db.data.tasks;
    for (const id of taskIds) {
      const task = this.#tasks.get(id);
      if (!task) continue;
      const at = tasks.lastIndexOf(task);
      if (at >= 0) tasks.splice(at, 1);
      this.#tasks.delete(id);
    }
  }
}
