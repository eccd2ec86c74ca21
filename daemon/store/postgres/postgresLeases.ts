import type { PostgresContext } from './postgresContext';

/** Serialises lease renewals across daemons; distinct from the migrations' key. */
const RENEWAL_LOCK_KEY = 0x6d333636;

/**
 * Which daemon syncs which tenant. Each daemon keeps a heartbeat row (`daemons`) and leases on tenants
 * (`tenant_leases`), both with an expiry it pushes forward while it works; a daemon that stops renewing
 * is gone once they expire, and the others take its tenants at their next renewal.
 */
export class PostgresLeases {
  readonly #context: PostgresContext;
  readonly #daemonId: string;

  constructor(context: PostgresContext, daemonId: string) {
    this.#context = context;
    this.#daemonId = daemonId;
  }

  /**
   * One renewal: heartbeat, renew what is held, let go of what is beyond the fair share (a daemon that
   * joined later gets its part), take free or expired leases up to it. Even apart from taking turns, two
   * daemons cannot both have a tenant: the insert only replaces a lease that has expired.
   */
  renew(leaseMs: number): Promise<ReadonlySet<string>> {
    return this.#context.transaction(async (tx) => {
      const now = this.#context.clock.now();
      const until = now + leaseMs;
      const me = this.#daemonId;
      // Renewals take turns (a few a minute per daemon, each short): each sees the leases the one before
      // committed, so daemons renewing at once neither reach for the same free tenants nor deadlock.
      await tx.query('SELECT pg_advisory_xact_lock($1)', [RENEWAL_LOCK_KEY]);
      await tx.query(
        `INSERT INTO daemons (id, started_at, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at`,
        [me, now, until],
      );
      await tx.query('DELETE FROM daemons WHERE expires_at <= $1', [now]);
      // A lease taken while its tenant was being removed (the removal had not committed when the insert
      // below read the tenants) outlives the tenant: held, it would take a place of its daemon's share for
      // ever, and with every daemon at its share one live tenant would go unsynced.
      await tx.query('DELETE FROM tenant_leases l WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = l.tenant_id)');
      const { rows: sizes } = await tx.query<{ daemons: number; tenants: number }>(
        'SELECT (SELECT count(*) FROM daemons)::integer AS daemons, (SELECT count(*) FROM tenants)::integer AS tenants',
      );
      const { daemons, tenants } = sizes[0] ?? { daemons: 1, tenants: 0 };
      const share = Math.ceil(tenants / Math.max(1, daemons));
      const { rows: renewed } = await tx.query<{ tenant_id: string }>(
        'UPDATE tenant_leases SET expires_at = $2 WHERE daemon_id = $1 RETURNING tenant_id',
        [me, until],
      );
      const held = new Set(renewed.map((row) => row.tenant_id));
      if (held.size > share) {
        const { rows: released } = await tx.query<{ tenant_id: string }>(
          `DELETE FROM tenant_leases WHERE tenant_id IN (
             SELECT tenant_id FROM tenant_leases WHERE daemon_id = $1 ORDER BY tenant_id LIMIT $2
           ) RETURNING tenant_id`,
          [me, held.size - share],
        );
        for (const row of released) held.delete(row.tenant_id);
      } else if (held.size < share) {
        const { rows: taken } = await tx.query<{ tenant_id: string }>(
          `INSERT INTO tenant_leases (tenant_id, daemon_id, expires_at)
           SELECT t.id, $1, $2 FROM tenants t LEFT JOIN tenant_leases l ON l.tenant_id = t.id
            WHERE l.tenant_id IS NULL OR l.expires_at <= $3
            ORDER BY t.seq LIMIT $4
           ON CONFLICT (tenant_id) DO UPDATE SET daemon_id = excluded.daemon_id, expires_at = excluded.expires_at
            WHERE tenant_leases.expires_at <= $3
           RETURNING tenant_id`,
          [me, until, now, share - held.size],
        );
        for (const row of taken) held.add(row.tenant_id);
      }
      return held;
    });
  }

  /**
   * Marks this daemon alive before it renews any lease: a task it claims before its first renewal is
   * not taken for a gone daemon's.
   */
  async register(leaseMs: number): Promise<void> {
    const now = this.#context.clock.now();
    await this.#context.pool.query(
      'INSERT INTO daemons (id, started_at, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at',
      [this.#daemonId, now, now + leaseMs],
    );
  }

  /** Lets go of everything at once, so that the others need not wait for the leases to expire. */
  async release(): Promise<void> {
    await this.#context.pool.query('DELETE FROM tenant_leases WHERE daemon_id = $1', [this.#daemonId]);
    await this.#context.pool.query('DELETE FROM daemons WHERE id = $1', [this.#daemonId]);
  }
}
