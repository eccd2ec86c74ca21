import assert from 'node:assert/strict';
import pg from 'pg';
import { isAppError } from '../../../daemon/errors/AppError';
import { createLogger } from '../../../daemon/logging/logger';
import { openSharedDatabase, type SharedDatabase } from '../../../daemon/store/postgres/sharedDatabase';
import { EngineerDirectory } from '../../../daemon/team/engineerDirectory';
import { startPostgres, type PostgresServer } from '../../support/postgresServer';

const quiet = createLogger({ write: () => undefined, level: 'error' });

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isAppError(error), `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    return error.message;
  }
  assert.fail(`expected ${code}`);
}

describe('engineer directory on PostgreSQL', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let database: SharedDatabase;
  let directory: EngineerDirectory;

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    database = await openSharedDatabase(await server.createDatabase(), { logger: quiet });
    directory = new EngineerDirectory(database.pool);
  });
  afterEach(async () => {
    await database.close();
  });

  it('issues a prefixed 32-byte base64url token that authenticates its engineer', async () => {
    const { engineer, token } = await directory.add({ name: 'alice', role: 'operator' });
    assert.match(token, /^m365s_[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(token.slice('m365s_'.length), 'base64url').length, 32);
    assert.deepEqual({ name: engineer.name, role: engineer.role, tenants: engineer.tenants, revokedAt: engineer.revokedAt }, {
      name: 'alice',
      role: 'operator',
      tenants: null,
      revokedAt: null,
    });
    assert.equal((await directory.authenticate(token))?.name, 'alice');
    const second = await directory.add({ name: 'bob', role: 'reader' });
    assert.notEqual(second.token, token);
    assert.equal((await directory.authenticate(second.token))?.role, 'reader');
  });

  it('keeps only the SHA-256 of a token: the token itself is nowhere in the database', async () => {
    const { token } = await directory.add({ name: 'alice', role: 'admin' });
    const dump = await database.pool.query<{ row: string }>(
      "SELECT row_to_json(e)::text || row_to_json(t)::text AS row FROM engineers e JOIN engineer_tokens t ON t.engineer_id = e.id",
    );
    assert.equal(dump.rows.length, 1);
    assert.ok(!dump.rows[0]?.row.includes(token.slice(6)), 'the token is stored');
    const hashes = await database.pool.query<{ token_hash: Buffer }>('SELECT token_hash FROM engineer_tokens');
    const { createHash } = await import('node:crypto');
    assert.deepEqual(hashes.rows[0]?.token_hash, createHash('sha256').update(token).digest());
  });

  it('refuses unknown, malformed and almost-right tokens', async () => {
    const { token } = await directory.add({ name: 'alice', role: 'admin' });
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    assert.equal(await directory.authenticate(`${token.slice(0, -1)}${last}`), undefined);
    assert.equal(await directory.authenticate('m365s_short'), undefined);
    assert.equal(await directory.authenticate(''), undefined);
  });

  it('refuses a revoked engineer at once, also through another pool (another daemon)', async () => {
    const other = new pg.Pool({ connectionString: database.pool.options.connectionString });
    try {
      const elsewhere = new EngineerDirectory(other);
      const { token } = await directory.add({ name: 'alice', role: 'operator' });
      assert.equal((await elsewhere.authenticate(token))?.name, 'alice');
      const revoked = await directory.revoke('alice');
      assert.ok(revoked.revokedAt !== null);
      assert.equal(await elsewhere.authenticate(token), undefined);
      assert.equal(await directory.authenticate(token), undefined);
      assert.match(await rejectsWith(directory.revoke('alice'), 'ENGINEER_NOT_FOUND'), /No engineer named alice/);
    } finally {
      await other.end();
    }
  });

  it('lets a revoked name be added again with a new token, keeping the old one refused', async () => {
    const first = await directory.add({ name: 'alice', role: 'admin' });
    await directory.revoke('alice');
    const again = await directory.add({ name: 'Alice', role: 'reader' });
    assert.equal(await directory.authenticate(first.token), undefined);
    assert.equal((await directory.authenticate(again.token))?.role, 'reader');
    assert.deepEqual((await directory.list()).map((engineer) => [engineer.name, engineer.role, engineer.revokedAt === null]), [
      ['alice', 'admin', false],
      ['Alice', 'reader', true],
    ]);
  });

  it('changes a role for the very next check', async () => {
    const { token } = await directory.add({ name: 'alice', role: 'reader' });
    await directory.setRole('ALICE', 'admin');
    assert.equal((await directory.authenticate(token))?.role, 'admin');
    await rejectsWith(directory.setRole('nobody', 'admin'), 'ENGINEER_NOT_FOUND');
  });

  it('issues a new token and stops the old one', async () => {
    const { token } = await directory.add({ name: 'alice', role: 'operator' });
    const renewed = await directory.issueToken('alice');
    assert.equal(await directory.authenticate(token), undefined);
    assert.equal((await directory.authenticate(renewed.token))?.name, 'alice');
  });

  it('keeps a tenant restriction, in lower case and without duplicates', async () => {
    const { token } = await directory.add({ name: 'alice', role: 'operator', tenants: ['Contoso.onmicrosoft.com', 'contoso.onmicrosoft.com', '72f988bf-86f1-41af-91ab-2d7cd011db47'] });
    assert.deepEqual((await directory.authenticate(token))?.tenants, ['contoso.onmicrosoft.com', '72f988bf-86f1-41af-91ab-2d7cd011db47']);
  });

  it('refuses a duplicate name, a bad name, a bad role and a bad tenant, naming the field', async () => {
    await directory.add({ name: 'alice', role: 'reader' });
    assert.match(await rejectsWith(directory.add({ name: 'alice', role: 'admin' }), 'ENGINEER_EXISTS'), /already exists/);
    assert.match(await rejectsWith(directory.add({ name: 'bad name!', role: 'reader' }), 'VALIDATION_FAILED'), /engineer name/);
    assert.match(await rejectsWith(directory.add({ name: 'bob', role: 'owner' as 'admin' }), 'VALIDATION_FAILED'), /one of reader, operator, admin/);
    assert.match(await rejectsWith(directory.add({ name: 'bob', role: 'reader', tenants: ['not a tenant'] }), 'VALIDATION_FAILED'), /Invalid tenant/);
    assert.equal((await directory.list()).length, 1);
  });
});
