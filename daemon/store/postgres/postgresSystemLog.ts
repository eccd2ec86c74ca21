import { randomUUID } from 'node:crypto';
import { redactSecrets, redactText } from '../../logging/redactSecrets';
import type { SystemLogEntry, SystemLogInput, SystemLogLevel, SystemLogQuery } from '../storeTypes';
import type { PostgresContext } from './postgresContext';

const LEVELS: readonly SystemLogLevel[] = ['info', 'warn', 'error'];

interface SystemLogRow {
  id: string;
  seq: string;
  at: string;
  level: SystemLogLevel;
  message: string;
  code: string | null;
  error_id: string | null;
  source: string | null;
  task_id: string | null;
  tenant_id: string | null;
  details: Record<string, unknown> | null;
}

const COLUMNS = 'id, seq, at, level, message, code, error_id, source, task_id, tenant_id, details';

function entryFromRow(row: SystemLogRow): SystemLogEntry {
  return {
    id: row.id,
    seq: Number(row.seq),
    at: Number(row.at),
    level: row.level,
    message: row.message,
    code: row.code,
    errorId: row.error_id,
    source: row.source,
    taskId: row.task_id,
    tenantId: row.tenant_id,
    details: row.details,
  };
}

/** The bounded system log, shared by every daemon: the oldest entries rotate out. */
export class PostgresSystemLog {
  readonly #context: PostgresContext;
  readonly #maxEntries: number;

  constructor(context: PostgresContext, maxEntries: number) {
    this.#context = context;
    this.#maxEntries = maxEntries;
  }

  appendSystemLog(input: SystemLogInput): Promise<SystemLogEntry> {
    return this.#context.transaction(async (tx) => {
      const { rows } = await tx.query<SystemLogRow>(
        `INSERT INTO system_log (id, at, level, message, code, error_id, source, task_id, tenant_id, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
        [
          randomUUID(),
          this.#context.clock.now(),
          input.level,
          redactText(input.message),
          input.code ?? null,
          input.errorId ?? null,
          input.source ?? null,
          input.taskId ?? null,
          input.tenantId ?? null,
          input.details ? JSON.stringify(redactSecrets(input.details)) : null,
        ],
      );
      const entry = entryFromRow(rows[0] as SystemLogRow);
      // Everything older than the newest `maxEntries`; one index range, whichever daemon wrote them.
      await tx.query('DELETE FROM system_log WHERE seq <= $1::bigint - $2::bigint', [entry.seq, this.#maxEntries]);
      tx.publish({ type: 'log', entry });
      return entry;
    });
  }

  async getEntry(entryId: string): Promise<SystemLogEntry | undefined> {
    const { rows } = await this.#context.pool.query<SystemLogRow>(`SELECT ${COLUMNS} FROM system_log WHERE id = $1`, [entryId]);
    return rows[0] ? entryFromRow(rows[0]) : undefined;
  }

  async querySystemLog(query: SystemLogQuery = {}): Promise<SystemLogEntry[]> {
    const levels = LEVELS.slice(LEVELS.indexOf(query.level ?? 'info'));
    const { rows } = await this.#context.pool.query<SystemLogRow>(
      `SELECT ${COLUMNS} FROM system_log
        WHERE level = ANY($1) AND ($2::text IS NULL OR task_id = $2) AND ($3::text IS NULL OR tenant_id = $3)
          AND ($5::text[] IS NULL OR tenant_id = ANY($5))
        ORDER BY seq DESC LIMIT $4`,
      [levels, query.taskId ?? null, query.tenantId ?? null, query.limit ?? 200, query.tenantIds ?? null],
    );
    return rows.map(entryFromRow);
  }
}
