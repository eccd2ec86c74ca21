import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** Where Debian's postgresql-15 puts its server binaries; `scripts/install-postgres.sh` installs them. */
export const POSTGRES_BIN = process.env.M365_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const SUPERUSER = 'm365';

/** A real PostgreSQL server of its own, in a temporary directory on a free loopback port. */
export interface PostgresServer {
  readonly port: number;
  /** A connection string for `database` (the server's default database when none is named). */
  url(database?: string): string;
  /** A new, empty database with a unique name; answers its connection string. */
  createDatabase(prefix?: string): Promise<string>;
  /** Stops the server at once and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts a PostgreSQL server for one test file: `initdb` into a fresh temporary directory, `pg_ctl start`
 * on a free port with its socket in that directory, trust authentication on loopback only. PostgreSQL
 * refuses to run as root, so as root the directory is handed to the `postgres` user and both commands
 * run as that user.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const dir = await mkdtemp(join(tmpdir(), 'm365-status-pg-'));
  const asRoot = userInfo().uid === 0;
  const owner = asRoot ? await postgresAccount() : undefined;
  if (owner) await chown(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const command = async (binary: string, args: readonly string[]): Promise<void> => {
    const file = join(POSTGRES_BIN, binary);
    const [program, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, [...args]];
    try {
      await run(program, argv, { cwd: dir, timeout: 60_000 });
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`${binary} failed: ${(stderr || stdout || (error as Error).message).trim()}`, { cause: error });
    }
  };

  try {
    await command('initdb', ['-D', data, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
    const port = await freePort();
    const settings = [
      `-p ${port}`,
      "-c listen_addresses='127.0.0.1'",
      `-c unix_socket_directories='${dir}'`,
      '-c fsync=off',
      '-c max_connections=200',
    ].join(' ');
    await command('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', settings, '-w', '-t', '60', 'start']);
    const url = (database = 'postgres'): string => `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
    return {
      port,
      url,
      async createDatabase(prefix = 'm365') {
        const name = `${prefix}_${randomBytes(6).toString('hex')}`;
        const client = new pg.Client({ connectionString: url() });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
        return url(name);
      },
      async stop() {
        await command('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function postgresAccount(): Promise<{ uid: number; gid: number }> {
  try {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: group } = await run('id', ['-g', 'postgres']);
    return { uid: Number(stdout.trim()), gid: Number(group.trim()) };
  } catch (error) {
    throw new Error('PostgreSQL refuses to run as root and there is no postgres user: run scripts/install-postgres.sh', { cause: error });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
