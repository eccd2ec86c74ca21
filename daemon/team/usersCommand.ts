import { parseArgs } from 'node:util';
import { engineerRoles, type EngineerRole } from '../../protocol/daemonApi';
import { loadConfig } from '../config';
import { AppError, isAppError } from '../errors/AppError';
import { createLogger } from '../logging/logger';
import { openSharedDatabase } from '../store/postgres/sharedDatabase';
import { EngineerDirectory, type Engineer } from './engineerDirectory';

export interface CommandIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const USERS_USAGE = [
  'Usage: m365-status users <command> --store postgres://… (or M365_STATUS_STORE)',
  '',
  '  users add NAME --role reader|operator|admin [--tenants T1,T2]   add an engineer; prints their token once',
  '  users list                                                      every engineer, revoked ones included',
  '  users revoke NAME                                               revoke the engineer and their token, at once',
  '  users role NAME ROLE                                            change the engineer\'s role',
  '  users token NAME                                                a new token; the old one stops working',
  '',
  'Roles: reader (see everything, refresh, re-check credential health), operator (also lock, unlock,',
  'revoke sessions), admin (also add, rotate and remove tenants). --tenants restricts an engineer to the',
  'tenants named, by the directory id or domain they were registered with, or by the daemon\'s tenant id.',
  'The command works on the database directly, so the first admin is added here.',
].join('\n');

/**
 * `m365-status users …`: engineers of a shared deployment, managed on its database by whoever holds the
 * connection string (which is what makes creating the first admin possible). Answers the exit code.
 */
export async function usersCommand(args: readonly string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: { store: { type: 'string' }, role: { type: 'string' }, tenants: { type: 'string' }, help: { type: 'boolean' } },
    });
  } catch (error) {
    io.stderr(`m365-status users: ${(error as Error).message}\n\n${USERS_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help === true || command === undefined) {
    (values.help === true ? io.stdout : io.stderr)(`${USERS_USAGE}\n`);
    return values.help === true ? 0 : 2;
  }
  try {
    const config = loadConfig({ env: io.env, overrides: values.store === undefined ? {} : { store: values.store } });
    if (config.store === undefined) {
      throw new AppError({ status: 400, code: 'CONFIG_INVALID', message: 'Invalid setting --store: the users command needs the shared database\'s postgres:// connection string (or M365_STATUS_STORE).', details: { setting: '--store' } });
    }
    const database = await openSharedDatabase(config.store, {
      logger: createLogger({ level: 'warn', write: (line) => io.stderr(`${line}\n`) }),
      maxConnections: 2,
    });
    try {
      await run(new EngineerDirectory(database.pool), command, rest, values, io);
    } finally {
      await database.close();
    }
    return 0;
  } catch (error) {
    io.stderr(`m365-status users: ${isAppError(error) ? error.message : (error as Error).message}\n`);
    return isAppError(error) && error.status < 500 ? 2 : 1;
  }
}

async function run(directory: EngineerDirectory, command: string, rest: readonly string[], values: { role?: string | undefined; tenants?: string | undefined }, io: CommandIo): Promise<void> {
  const name = (): string => {
    const [given, ...extra] = rest;
    if (given === undefined || extra.length > 0) throw AppError.badRequest('VALIDATION_FAILED', `users ${command} takes one engineer's name.`, { field: 'name' });
    return given;
  };
  switch (command) {
    case 'add': {
      if (values.role === undefined) throw AppError.badRequest('VALIDATION_FAILED', `users add needs --role, one of ${engineerRoles.join(', ')}.`, { field: 'role' });
      const tenants = values.tenants === undefined ? null : values.tenants.split(',').filter((tenant) => tenant.trim() !== '');
      const { engineer, token } = await directory.add({ name: name(), role: values.role as EngineerRole, tenants });
      io.stdout(`Added ${engineer.name} (${describe(engineer)}).\nTheir token, shown this once (only its hash is kept; \`users token ${engineer.name}\` issues a new one):\n${token}\n`);
      return;
    }
    case 'list': {
      const rows = (await directory.list()).map((engineer) => [
        engineer.name,
        engineer.role,
        engineer.tenants === null ? 'all' : engineer.tenants.join(','),
        new Date(engineer.createdAt).toISOString(),
        engineer.revokedAt === null ? '' : `revoked ${new Date(engineer.revokedAt).toISOString()}`,
      ]);
      io.stdout(table([['NAME', 'ROLE', 'TENANTS', 'CREATED', 'STATE'], ...rows]));
      return;
    }
    case 'revoke': {
      const engineer = await directory.revoke(name());
      io.stdout(`Revoked ${engineer.name}: their token is refused from now on, by every daemon.\n`);
      return;
    }
    case 'role': {
      const [engineerName, role, ...extra] = rest;
      if (engineerName === undefined || role === undefined || extra.length > 0) {
        throw AppError.badRequest('VALIDATION_FAILED', `users role takes an engineer's name and a role, one of ${engineerRoles.join(', ')}.`, { field: 'role' });
      }
      const engineer = await directory.setRole(engineerName, role as EngineerRole);
      io.stdout(`${engineer.name} is now ${describe(engineer)}.\n`);
      return;
    }
    case 'token': {
      const { engineer, token } = await directory.issueToken(name());
      io.stdout(`A new token for ${engineer.name}; the old one is refused from now on. Shown this once:\n${token}\n`);
      return;
    }
    default:
      throw AppError.badRequest('VALIDATION_FAILED', `No users command ${JSON.stringify(command.slice(0, 32))}: add, list, revoke, role or token.`, { field: 'command' });
  }
}

function describe(engineer: Engineer): string {
  return `${engineer.role}, ${engineer.tenants === null ? 'every tenant' : `tenants ${engineer.tenants.join(', ')}`}`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}
