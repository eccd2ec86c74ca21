import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate, type Migration } from '../../../../daemon/store/postgres/migrations';
import { startPostgres, type PostgresServer } from '../../../support/postgresServer';

const v1: Migration = { version: 1, name: 'tenants', sql: 'CREATE TABLE tenants (id text PRIMARY KEY, display_name text NOT NULL)' };
const v2: Migration = { version: 2, name: 'tenant notes', sql: "ALTER TABLE tenants ADD COLUMN note text NOT NULL DEFAULT ''" };

describe('shared database migrations', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let pool: pg.Pool;

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    pool = new pg.Pool({ connectionString: await server.createDatabase() });
  });
  afterEach(async () => {
    await pool.end();
  });

  it('builds the schema from an empty database and records each version', async () => {
    const result = await migrate(pool, [v1, v2]);
    assert.deepEqual(result, { applied: [1, 2], version: 2 });
    await pool.query("INSERT INTO tenants (id, display_name) VALUES ('t1', 'Contoso')");
    const { rows } = await pool.query<{ note: string }>('SELECT note FROM tenants');
    assert.equal(rows[0]?.note, '');
    const versions = await pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(versions.rows.map((row) => row.version), [1, 2]);
  });

  it('upgrades a database of the previous version, keeping its rows', async () => {
    await migrate(pool, [v1]);
    await pool.query("INSERT INTO tenants (id, display_name) VALUES ('t1', 'Contoso')");
    const result = await migrate(pool, [v1, v2]);
    assert.deepEqual(result, { applied: [2], version: 2 });
    const { rows } = await pool.query<{ id: string; display_name: string; note: string }>('SELECT * FROM tenants');
    assert.deepEqual(rows, [{ id: 't1', display_name: 'Contoso', note: '' }]);
  });

  it('applies nothing to a current database', async () => {
    await migrate(pool, [v1, v2]);
    assert.deepEqual(await migrate(pool, [v1, v2]), { applied: [], version: 2 });
  });

  it('lets one of several daemons starting at once migrate, and the others find it done', async () => {
    const pools = [pool, new pg.Pool({ connectionString: pool.options.connectionString }), new pg.Pool({ connectionString: pool.options.connectionString })];
    try {
      const results = await Promise.all(pools.map((each) => migrate(each, [v1, v2])));
      assert.deepEqual(results.map((result) => result.applied).sort((a, b) => b.length - a.length), [[1, 2], [], []]);
    } finally {
      await Promise.all(pools.slice(1).map((each) => each.end()));
    }
  });

  it('refuses a database migrated by a newer daemon', async () => {
    await migrate(pool, [v1, v2]);
    await assert.rejects(migrate(pool, [v1]), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'STORE_SCHEMA_TOO_NEW');
      assert.match(error.message, /schema version 2, newer than this daemon knows \(1\)/);
      return true;
    });
  });

  it('keeps nothing of a failed step and names it', async () => {
    const broken: Migration = { version: 2, name: 'broken', sql: "ALTER TABLE tenants ADD COLUMN note text; SELECT 1/0" };
    await assert.rejects(migrate(pool, [v1, broken]), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'STORE_MIGRATION_FAILED');
      assert.match(error.message, /Migration 2 \(broken\)/);
      return true;
    });
    const columns = await pool.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'tenants' AND column_name = 'note'");
    assert.equal(columns.rowCount, 0);
    assert.deepEqual(await migrate(pool, [v1, v2]), { applied: [2], version: 2 });
  });
});
