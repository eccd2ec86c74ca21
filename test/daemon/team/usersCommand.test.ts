import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../../daemon/logging/logger';
import { openSharedDatabase, type SharedDatabase } from '../../../daemon/store/postgres/sharedDatabase';
import { EngineerDirectory } from '../../../daemon/team/engineerDirectory';
import { startPostgres, type PostgresServer } from '../../support/postgresServer';

const quiet = createLogger({ write: () => undefined, level: 'error' });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const bin = fileURLToPath(new URL('../../../dist/daemon.cjs', import.meta.url));

/** The built command line (the package's `m365-status` bin), in its own process, as an admin runs it. */
function m365Status(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: 'pipe', env: { ...process.env, M365_STATUS_STORE: '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

function tokenIn(output: string): string {
  const token = /^(m365s_[A-Za-z0-9_-]{43})$/m.exec(output)?.[1];
  assert.ok(token, `a token in ${output}`);
  return token;
}

describe('m365-status users: engineers managed from the command line', function () {
  this.timeout(90_000);
  let server: PostgresServer;
  let url: string;
  let database: SharedDatabase;
  let directory: EngineerDirectory;

  before(async () => {
    if (!existsSync(bin)) throw new Error('dist/daemon.cjs is missing: run `node scripts/build.mjs daemon` (npm run test:unit builds it)');
    server = await startPostgres();
    url = await server.createDatabase();
    // The command migrates an empty database itself; this pool only checks what it did.
    database = await openSharedDatabase(url, { logger: quiet });
    directory = new EngineerDirectory(database.pool);
  });
  after(async () => {
    await database?.close();
    await server?.stop();
  });

  it('adds the first admin, prints the token once, and that token authenticates', async () => {
    const added = await m365Status(['users', 'add', '--role', 'admin', 'ada', '--store', url]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Added ada \(admin, every tenant\)/);
    const token = tokenIn(added.stdout);
    assert.equal((await directory.authenticate(token))?.role, 'admin');
    const listed = await m365Status(['users', 'list', '--store', url]);
    assert.ok(!listed.stdout.includes(token), 'the token is never shown again');
  });

  it('adds a restricted operator, lists, changes the role and revokes, each taking effect at once', async () => {
    const added = await m365Status(['users', 'add', '--role', 'operator', 'alice', '--tenants', 'contoso.onmicrosoft.com,fabrikam.onmicrosoft.com'], { M365_STATUS_STORE: url });
    assert.equal(added.code, 0, added.stderr);
    const token = tokenIn(added.stdout);
    assert.deepEqual((await directory.authenticate(token))?.tenants, ['contoso.onmicrosoft.com', 'fabrikam.onmicrosoft.com']);

    const listed = await m365Status(['users', 'list', '--store', url]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME\s+ROLE\s+TENANTS\s+CREATED\s+STATE$/m);
    assert.match(listed.stdout, /^alice\s+operator\s+contoso\.onmicrosoft\.com,fabrikam\.onmicrosoft\.com\s+\d{4}-/m);

    const promoted = await m365Status(['users', 'role', 'alice', 'admin', '--store', url]);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.equal((await directory.authenticate(token))?.role, 'admin');

    const renewed = await m365Status(['users', 'token', 'alice', '--store', url]);
    const newToken = tokenIn(renewed.stdout);
    assert.equal(await directory.authenticate(token), undefined, 'the old token stops at once');
    assert.equal((await directory.authenticate(newToken))?.name, 'alice');

    const revoked = await m365Status(['users', 'revoke', 'alice', '--store', url]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /Revoked alice/);
    assert.equal(await directory.authenticate(newToken), undefined);
    assert.match((await m365Status(['users', 'list', '--store', url])).stdout, /^alice\s+admin\s+.*revoked \d{4}-/m);
  });

  it('refuses bad input with exit code 2 and a message naming the problem, never echoing the password', async () => {
    const noRole = await m365Status(['users', 'add', 'bob', '--store', url]);
    assert.equal(noRole.code, 2);
    assert.match(noRole.stderr, /users add needs --role, one of reader, operator, admin/);
    const badRole = await m365Status(['users', 'add', 'bob', '--role', 'owner', '--store', url]);
    assert.equal(badRole.code, 2);
    assert.match(badRole.stderr, /Invalid role "owner"/);
    const unknown = await m365Status(['users', 'revoke', 'nobody', '--store', url]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No engineer named nobody/);
    const noStore = await m365Status(['users', 'list']);
    assert.equal(noStore.code, 2);
    assert.match(noStore.stderr, /Invalid setting --store/);
    const unreachable = await m365Status(['users', 'list', '--store', `postgres://m365:hunter2@127.0.0.1:${server.port + 1}/none`]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /Cannot use the shared database/);
    assert.ok(!unreachable.stderr.includes('hunter2'), 'the password is not repeated');
  });
});
