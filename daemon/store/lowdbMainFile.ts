import type { Low } from 'lowdb';
import type { DurableJsonFile } from './durableJsonFile';
import type { MainFileJournal, MainJournalRecord } from './mainFileJournal';
import type { MainFile } from './storeSchema';
import type { StoredActivity, StoredTask, StoredTenant } from './storeTypes';
import { tenantNotFound } from '../errors/tenantNotFound';

/**
 * `store.json` in memory: tenants, tasks and activities, with indexes by id. Ids come from outside (a
 * URL path), so lookups go through Maps: an id such as `constructor` or `__proto__` is simply not there.
 * A tenant just registered is made durable in its journal (`MainFileJournal`), the rest by writing the file.
 */
export class LowdbMainFile {
  readonly file: DurableJsonFile<MainFile>;
  readonly journal: MainFileJournal;
  readonly #db: Low<MainFile>;
  readonly #tenants = new Map<string, StoredTenant>();
  readonly #tasks = new Map<string, StoredTask>();
  #lazy = false;
  #carried = false;
  #durableSeq: number;

  constructor(db: Low<MainFile>, file: DurableJsonFile<MainFile>, journal: MainFileJournal) {
    this.#db = db;
    this.file = file;
    this.journal = journal;
    this.#durableSeq = db.data.nextSeq;
    for (const tenant of db.data.tenants) this.#tenants.set(tenant.id, tenant);
    for (const task of db.data.tasks) this.#tasks.set(task.id, task);
  }

  get data(): MainFile {
    return this.#db.data;
  }

  /** Whether bookkeeping is waiting in memory for the next checkpoint. */
  get lazy(): boolean {
    return this.#lazy;
  }

  markLazy(): void {
    this.#lazy = true;
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
    return this.#durableSeq;
  }

  async save(): Promise<void> {
    this.#lazy = false;
    this.#carried = false;
    // The file's text is taken when the write is asked for, so this is what the finished write holds.
    const seq = this.#db.data.nextSeq;
    await this.#db.write();
    this.#durableSeq = Math.max(this.#durableSeq, seq);
    this.journal.foldedBelow(seq);
  }

  /**
   * Makes a tenant just added, and its activity, durable with one append to the journal instead of a write
   * of the whole file; the file catches up at a later write. Written with the file instead while a write of
   * it is under way (what the tenant depends on, an app profile just added say, may be in that write alone),
   * before the file was ever written, or after the journal failed.
   */
  async saveTenantAdded(tenant: StoredTenant, activity: StoredActivity): Promise<void> {
    if (this.file.busy || !this.file.written || !this.journal.usable) return this.save();
    await this.journal.append({ tenantAdded: tenant, activity });
  }

  /**
   * Puts back, on open, the tenants the journal holds that the file was not written with since: those whose
   * activity is numbered from the file's `nextSeq` on. Returns how many.
   */
  replayJournal(records: readonly MainJournalRecord[]): number {
    // Every start reads the journal, almost always empty: the activities are indexed only when it is not.
    if (records.length === 0) return 0;
    const data = this.#db.data;
    const known = new Set(data.activities.map((activity) => activity.id));
    let replayed = 0;
    for (const { tenantAdded, activity } of records) {
      if (activity.seq < this.#durableSeq) continue;
      if (!this.#tenants.has(tenantAdded.id)) this.addTenant(tenantAdded);
      if (!known.has(activity.id)) {
        known.add(activity.id);
        data.activities.push(activity);
      }
      data.nextSeq = Math.max(data.nextSeq, activity.seq + 1);
      replayed++;
    }
    return replayed;
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
