import { randomUUID } from 'node:crypto';
import { AppError } from '../../errors/AppError';
import type {
  ActivityQuery,
  NewActivity,
  NewTask,
  RecordedRefresh,
  RefreshDecision,
  StoredActivity,
  StoredTask,
  StoredTenant,
  StoreEvent,
  TaskQuery,
  TaskStatus,
} from '../storeTypes';
import type { PostgresContext } from './postgresContext';
import { lockTenantRow, TENANT_COLUMNS, tenantFromRow, type TenantRow } from './postgresTenantRow';
import { isUniqueViolation, type PostgresTransaction } from './postgresTransaction';
import { tenantNotFound } from '../../errors/tenantNotFound';

interface TaskRow {
  id: string;
  seq: string;
  tenant_id: string | null;
  kind: string;
  name: string;
  description: string;
  status: TaskStatus;
  origin: StoredTask['origin'];
  automated: boolean;
  activity_id: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: StoredTask['error'];
}

interface ActivityRow {
  id: string;
  seq: string;
  tenant_id: string | null;
  kind: StoredActivity['kind'];
  name: string;
  description: string;
  actor: string;
  management: boolean;
  at: string;
  user_id: string | null;
  task_ids: string[];
  blocked_by_task_id: string | null;
}

const TASK_COLUMNS = 'id, seq, tenant_id, kind, name, description, status, origin, automated, activity_id, created_at, started_at, finished_at, error';
const ACTIVITY_COLUMNS = 'id, seq, tenant_id, kind, name, description, actor, management, at, user_id, task_ids, blocked_by_task_id';

const nullableNumber = (value: string | null): number | null => (value === null ? null : Number(value));

function taskFromRow(row: TaskRow): StoredTask {
  return {
    id: row.id,
    seq: Number(row.seq),
    tenantId: row.tenant_id,
    kind: row.kind,
    name: row.name,
    description: row.description,
    status: row.status,
    origin: row.origin,
    automated: row.automated,
    activityId: row.activity_id,
    createdAt: Number(row.created_at),
    startedAt: nullableNumber(row.started_at),
    finishedAt: nullableNumber(row.finished_at),
    error: row.error,
  };
}

function activityFromRow(row: ActivityRow): StoredActivity {
  return {
    id: row.id,
    seq: Number(row.seq),
    tenantId: row.tenant_id,
    kind: row.kind,
    name: row.name,
    description: row.description,
    actor: row.actor,
    management: row.management,
    at: Number(row.at),
    userId: row.user_id,
    taskIds: row.task_ids,
    blockedByTaskId: row.blocked_by_task_id,
  };
}

export interface PostgresTasksOptions {
  /** Finished automated tasks kept per tenant and kind; older ones are dropped. */
  automatedTaskRetention: number;
  /** This store's daemon, recorded on the tasks it starts. */
  daemonId: string;
}

/** Tasks and activities, in their own tables; both outlive the tenant they belong to. */
export class PostgresTasks {
  readonly #context: PostgresContext;
  readonly #options: PostgresTasksOptions;

  constructor(context: PostgresContext, options: PostgresTasksOptions) {
    this.#context = context;
    this.#options = options;
  }

  recordActivity(input: NewActivity, tasks: readonly NewTask[] = []): Promise<{ activity: StoredActivity; tasks: StoredTask[] }> {
    return this.#context.transaction(async (tx) => {
      if (input.tenantId !== null) await lockTenantRow(tx, input.tenantId);
      return this.#record(tx, input, tasks);
    });
  }

  // The tenant's row is locked before the latest refresh is read: a refresh on another daemon waits for
  // this one to commit and then sees its tasks, so simultaneous refreshes cannot each see "none".
  recordRefresh(tenantId: string, decide: (latestRefreshTasks: readonly StoredTask[], tenant: StoredTenant) => RefreshDecision): Promise<RecordedRefresh> {
    return this.#context.transaction(async (tx) => {
      const tenant = tenantFromRow(await lockTenantRow(tx, tenantId));
      const decision = decide(await this.#latestRefreshTasks(tx, tenantId), tenant);
      const input: NewActivity = {
        ...decision.activity,
        tenantId,
        blockedByTaskId: decision.outcome === 'already-requested' ? decision.earlierTask.id : null,
      };
      const queued = decision.outcome === 'queued' ? decision.tasks.map((task) => ({ ...task, tenantId })) : [];
      const { activity, tasks } = await this.#record(tx, input, queued);
      return decision.outcome === 'queued'
        ? { outcome: 'queued', activity, tasks }
        : { outcome: 'already-requested', activity, earlierTask: structuredClone(decision.earlierTask) };
    });
  }

  queueTask(input: NewTask): Promise<StoredTask> {
    return this.#addTask(input, 'PENDING');
  }

  beginTask(input: NewTask): Promise<StoredTask> {
    return this.#addTask(input, 'IN_PROGRESS');
  }

  #addTask(input: NewTask, status: 'PENDING' | 'IN_PROGRESS'): Promise<StoredTask> {
    return this.#context.transaction(async (tx) => {
      if (input.tenantId !== null) await this.#requireTenant(tx, input.tenantId);
      const task = await this.insertTask(tx, input, null, status);
      tx.publish({ type: 'task', task });
      return task;
    });
  }

  startTask(taskId: string): Promise<StoredTask> {
    return this.#moveTask(taskId, ['PENDING'], 'status = $3, started_at = $4, daemon_id = $5', ['IN_PROGRESS', this.#context.clock.now(), this.#options.daemonId]);
  }

  completeTask(taskId: string, description?: string): Promise<StoredTask> {
    return this.#moveTask(taskId, ['IN_PROGRESS'], 'status = $3, finished_at = $4, description = coalesce($5, description)', [
      'COMPLETE',
      this.#context.clock.now(),
      description ?? null,
    ]);
  }

  failTask(taskId: string, error: { code: string; message: string; errorId?: string }): Promise<StoredTask> {
    return this.#moveTask(taskId, ['PENDING', 'IN_PROGRESS'], 'status = $3, finished_at = $4, error = $5', [
      'ERROR',
      this.#context.clock.now(),
      JSON.stringify({ code: error.code, message: error.message, errorId: error.errorId ?? null }),
    ]);
  }

  /**
   * Ends in ERROR the tasks left IN_PROGRESS by daemons that are gone: this one's earlier runs, and any
   * daemon whose heartbeat has expired. A task another live daemon is running is left to it.
   */
  failInterruptedTasks(reason: string): Promise<StoredTask[]> {
    return this.#context.transaction(async (tx) => {
      const now = this.#context.clock.now();
      const { rows } = await tx.query<TaskRow>(
        `UPDATE tasks SET status = 'ERROR', finished_at = $1, error = $2
          WHERE status = 'IN_PROGRESS'
            AND (daemon_id IS NULL OR daemon_id = $3 OR NOT EXISTS (SELECT 1 FROM daemons d WHERE d.id = tasks.daemon_id AND d.expires_at > $1))
          RETURNING ${TASK_COLUMNS}`,
        [now, JSON.stringify({ code: 'INTERRUPTED', message: reason, errorId: null }), this.#options.daemonId],
      );
      const tasks = rows.map(taskFromRow).sort((a, b) => a.seq - b.seq);
      tx.publish(...tasks.map((task): StoreEvent => ({ type: 'task', task })));
      return tasks;
    });
  }

  /**
   * Starts the oldest PENDING task this daemon may run: not of a tenant in `busyTenantIds` (its own
   * running ones), nor of a tenant another daemon is running a queued task of, nor of a tenant another
   * live daemon holds the lease of (its holder runs it, so a refresh's resync never overlaps the holder's
   * poll; once that lease expires, any daemon may). `SKIP LOCKED` lets daemons claim at once without
   * waiting on each other's choice; each task goes to exactly one of them.
   */
  async claimNextTask(busyTenantIds: readonly string[]): Promise<StoredTask | undefined> {
    const skipped = [...busyTenantIds];
    for (;;) {
      try {
        return await this.#claim(skipped);
      } catch (error) {
        // Another daemon claimed a task of the same tenant at the same moment (the unique index decides).
        const tenantId = (error as { tenantId?: string }).tenantId;
        if (!isUniqueViolation(error) || tenantId === undefined) throw error;
        skipped.push(tenantId);
      }
    }
  }

  #claim(busyTenantIds: readonly string[]): Promise<StoredTask | undefined> {
    return this.#context.transaction(async (tx) => {
      const { rows: candidates } = await tx.query<{ id: string; tenant_id: string | null }>(
        `SELECT t.id, t.tenant_id FROM tasks t
          WHERE t.status = 'PENDING' AND (t.tenant_id IS NULL OR NOT (t.tenant_id = ANY($1)))
            AND NOT EXISTS (SELECT 1 FROM tasks r WHERE r.tenant_id = t.tenant_id AND r.status = 'IN_PROGRESS' AND r.origin <> 'poller')
            AND NOT EXISTS (SELECT 1 FROM tenant_leases l WHERE l.tenant_id = t.tenant_id AND l.daemon_id <> $2 AND l.expires_at > $3)
          ORDER BY t.seq LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [busyTenantIds, this.#options.daemonId, this.#context.clock.now()],
      );
      const candidate = candidates[0];
      if (!candidate) return undefined;
      let rows: TaskRow[];
      try {
        ({ rows } = await tx.query<TaskRow>(
          `UPDATE tasks SET status = 'IN_PROGRESS', started_at = $2, daemon_id = $3 WHERE id = $1 AND status = 'PENDING' RETURNING ${TASK_COLUMNS}`,
          [candidate.id, this.#context.clock.now(), this.#options.daemonId],
        ));
      } catch (error) {
        if (candidate.tenant_id !== null) Object.assign(error as object, { tenantId: candidate.tenant_id });
        throw error;
      }
      const task = rows[0] ? taskFromRow(rows[0]) : undefined;
      if (task) tx.publish({ type: 'task', task });
      return task;
    });
  }

  /** Ends in ERROR the tasks left IN_PROGRESS by other daemons whose heartbeat has expired. */
  failTasksOfGoneDaemons(reason: string): Promise<StoredTask[]> {
    return this.#context.transaction(async (tx) => {
      const now = this.#context.clock.now();
      const { rows } = await tx.query<TaskRow>(
        `UPDATE tasks SET status = 'ERROR', finished_at = $1, error = $2
          WHERE status = 'IN_PROGRESS' AND daemon_id IS DISTINCT FROM $3
            AND NOT EXISTS (SELECT 1 FROM daemons d WHERE d.id = tasks.daemon_id AND d.expires_at > $1)
          RETURNING ${TASK_COLUMNS}`,
        [now, JSON.stringify({ code: 'INTERRUPTED', message: reason, errorId: null }), this.#options.daemonId],
      );
      const tasks = rows.map(taskFromRow).sort((a, b) => a.seq - b.seq);
      tx.publish(...tasks.map((task): StoreEvent => ({ type: 'task', task })));
      return tasks;
    });
  }

  /** Fails the tenant's PENDING tasks, for its removal. */
  async failPendingTasksOf(tx: PostgresTransaction, tenantId: string, at: number): Promise<StoredTask[]> {
    const { rows } = await tx.query<TaskRow>(
      `UPDATE tasks SET status = 'ERROR', finished_at = $2, error = $3 WHERE tenant_id = $1 AND status = 'PENDING' RETURNING ${TASK_COLUMNS}`,
      [tenantId, at, JSON.stringify({ code: 'TENANT_REMOVED', message: 'The tenant was removed before this task ran.', errorId: null })],
    );
    return rows.map(taskFromRow).sort((a, b) => a.seq - b.seq);
  }

  async getTask(taskId: string): Promise<StoredTask | undefined> {
    const { rows } = await this.#context.pool.query<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $1`, [taskId]);
    return rows[0] ? taskFromRow(rows[0]) : undefined;
  }

  async listTasks(query: TaskQuery = {}): Promise<StoredTask[]> {
    const { rows } = await this.#context.pool.query<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM tasks
        WHERE ($1 OR NOT automated) AND ($2::text IS NULL OR tenant_id = $2) AND ($3::text IS NULL OR status = $3)
          AND ($5::text[] IS NULL OR tenant_id = ANY($5))
        ORDER BY seq DESC LIMIT $4`,
      [query.includeAutomated ?? false, query.tenantId ?? null, query.status ?? null, query.limit ?? 100, query.tenantIds ?? null],
    );
    return rows.map(taskFromRow);
  }

  async pendingTasks(): Promise<StoredTask[]> {
    const { rows } = await this.#context.pool.query<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE status = 'PENDING' ORDER BY seq`);
    return rows.map(taskFromRow);
  }

  async getActivity(activityId: string): Promise<StoredActivity | undefined> {
    const { rows } = await this.#context.pool.query<ActivityRow>(`SELECT ${ACTIVITY_COLUMNS} FROM activities WHERE id = $1`, [activityId]);
    return rows[0] ? activityFromRow(rows[0]) : undefined;
  }

  async listActivities(query: ActivityQuery = {}): Promise<StoredActivity[]> {
    const { rows } = await this.#context.pool.query<ActivityRow>(
      `SELECT ${ACTIVITY_COLUMNS} FROM activities WHERE ($1::text IS NULL OR tenant_id = $1) AND ($3::text[] IS NULL OR tenant_id = ANY($3))
        ORDER BY seq DESC LIMIT $2`,
      [query.tenantId ?? null, query.limit ?? 100, query.tenantIds ?? null],
    );
    return rows.map(activityFromRow);
  }

  async insertTask(tx: PostgresTransaction, input: NewTask, activityId: string | null, status: 'PENDING' | 'IN_PROGRESS'): Promise<StoredTask> {
    const at = this.#context.clock.now();
    const { rows } = await tx.query<TaskRow>(
      `INSERT INTO tasks (id, seq, tenant_id, kind, name, description, status, origin, automated, activity_id, created_at, started_at, daemon_id)
       VALUES ($1, nextval('store_seq'), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       RETURNING ${TASK_COLUMNS}`,
      [
        randomUUID(),
        input.tenantId,
        input.kind,
        input.name,
        input.description,
        status,
        input.origin,
        input.automated,
        activityId,
        at,
        status === 'IN_PROGRESS' ? at : null,
        status === 'IN_PROGRESS' ? this.#options.daemonId : null,
      ],
    );
    return taskFromRow(rows[0] as TaskRow);
  }

  /**
   * Records an activity, marking its tenant managed now if it is management; publishes both. The caller
   * holds the tenant's row.
   */
  async insertActivity(tx: PostgresTransaction, input: NewActivity, id: string = randomUUID(), taskIds: readonly string[] = []): Promise<StoredActivity> {
    const at = this.#context.clock.now();
    const { rows } = await tx.query<ActivityRow>(
      `INSERT INTO activities (id, seq, tenant_id, kind, name, description, actor, management, at, user_id, task_ids, blocked_by_task_id)
       VALUES ($1, nextval('store_seq'), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       RETURNING ${ACTIVITY_COLUMNS}`,
      [id, input.tenantId, input.kind, input.name, input.description, input.actor, input.management, at, input.userId ?? null, taskIds, input.blockedByTaskId ?? null],
    );
    const activity = activityFromRow(rows[0] as ActivityRow);
    if (input.management && input.tenantId !== null) {
      const { rows: tenants } = await tx.query<TenantRow>(
        `UPDATE tenants SET record = jsonb_set(record, '{lastManagementActivityAt}', to_jsonb(greatest((record->>'lastManagementActivityAt')::bigint, $2::bigint)))
          WHERE id = $1 RETURNING ${TENANT_COLUMNS}`,
        [input.tenantId, at],
      );
      if (tenants[0]) tx.publish({ type: 'tenant', tenant: tenantFromRow(tenants[0]) });
    }
    tx.publish({ type: 'activity', activity });
    return activity;
  }

  async #record(tx: PostgresTransaction, input: NewActivity, tasks: readonly NewTask[]): Promise<{ activity: StoredActivity; tasks: StoredTask[] }> {
    const activityId = randomUUID();
    const queued: StoredTask[] = [];
    for (const task of tasks) queued.push(await this.insertTask(tx, task, activityId, 'PENDING'));
    const activity = await this.insertActivity(tx, input, activityId, queued.map((task) => task.id));
    tx.publish(...queued.map((task): StoreEvent => ({ type: 'task', task })));
    return { activity, tasks: queued };
  }

  async #requireTenant(tx: PostgresTransaction, tenantId: string): Promise<void> {
    const { rowCount } = await tx.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]);
    if (!rowCount) throw tenantNotFound(tenantId);
  }

  /** The tasks queued by the tenant's most recent refresh that queued any, or none. */
  async #latestRefreshTasks(tx: PostgresTransaction, tenantId: string): Promise<StoredTask[]> {
    const { rows } = await tx.query<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM tasks WHERE activity_id = (
         SELECT activity_id FROM tasks WHERE tenant_id = $1 AND origin = 'refresh' ORDER BY seq DESC LIMIT 1
       ) ORDER BY seq`,
      [tenantId],
    );
    return rows.map(taskFromRow);
  }

  // One statement moves the task only from an allowed state: two daemons starting the same task cannot
  // both succeed, whichever commits first.
  #moveTask(taskId: string, from: readonly TaskStatus[], set: string, values: readonly unknown[]): Promise<StoredTask> {
    return this.#context.transaction(async (tx) => {
      const { rows } = await tx.query<TaskRow>(`UPDATE tasks SET ${set} WHERE id = $1 AND status = ANY($2) RETURNING ${TASK_COLUMNS}`, [taskId, from, ...values]);
      const row = rows[0];
      if (!row) {
        const { rows: found } = await tx.query<{ status: TaskStatus }>('SELECT status FROM tasks WHERE id = $1', [taskId]);
        const status = found[0]?.status;
        if (!status) throw AppError.notFound('TASK_NOT_FOUND', `No task with id ${taskId}.`, { taskId });
        throw AppError.conflict('TASK_STATE', `Task ${taskId} is ${status}, not ${from.join(' or ')}.`, { taskId, status });
      }
      const task = taskFromRow(row);
      if (task.automated && (task.status === 'COMPLETE' || task.status === 'ERROR')) await this.#pruneAutomated(tx, task);
      tx.publish({ type: 'task', task });
      return task;
    });
  }

  // Automated tasks would otherwise grow the table by one per sync per tenant for ever.
  async #pruneAutomated(tx: PostgresTransaction, finished: StoredTask): Promise<void> {
    await tx.query(
      `DELETE FROM tasks WHERE id IN (
         SELECT id FROM tasks
          WHERE automated AND status IN ('COMPLETE', 'ERROR') AND tenant_id IS NOT DISTINCT FROM $1 AND kind = $2
          ORDER BY seq DESC OFFSET $3
       )`,
      [finished.tenantId, finished.kind, this.#options.automatedTaskRetention],
    );
  }
}
