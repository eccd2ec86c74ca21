#!/usr/bin/env node
import { daemonContract, dataDirectoryRule } from '../protocol/daemonContract';
import { CONFIG_SETTINGS, loadConfig } from './config';
import { parseDaemonArguments } from './daemonArguments';
import { Daemon, daemonVersion } from './daemon';
import { limitHeapGrowth } from './heapGrowth';
import { createDaemonLogger } from './logging/daemonLogger';
import { isAppError } from './errors/AppError';
import { migrateCommand } from './store/migrateCommand';
import { usersCommand } from './team/usersCommand';
import { runVaultCommand, VAULT_COMMAND_USAGE } from './vault/vaultCommand';
import { VAULT_KEY_ENV } from './vault/vaultKey';

function usage(): string {
  const rows = CONFIG_SETTINGS.map(({ flag, env }) => `  ${`${flag} VALUE`.padEnd(36)} or ${env}`);
  return [
    `m365-status daemon ${daemonVersion}: keeps Microsoft 365 sign-in state of your tenants, serves it on 127.0.0.1.`,
    '',
    'Usage: node dist/daemon.cjs [options]         (or m365-status [options])',
    '       m365-status users add|list|revoke|role|token …   engineers of a shared deployment (users --help)',
    '       m365-status migrate --to postgres://…             move a local store into a shared database (migrate --help)',
    '',
    'Options (each also from its environment variable; durations take a unit: 90s, 15m, 6h, 14d):',
    ...rows,
    `  ${'--help'.padEnd(36)} this text`,
    `  ${'--version'.padEnd(36)} the version`,
    `  ${VAULT_KEY_ENV.padEnd(36)} (environment only) the shared store's vault key, in place of --vault-key-file`,
    '',
    'Commands:',
    VAULT_COMMAND_USAGE,
    '',
    `The data directory defaults to ${daemonContract.defaultDataDirectory}; ${dataDirectoryRule}.`,
    `It writes ${daemonContract.files.endpoint} (url, port, pid, bearer token; mode 0600) into the data directory for clients.`,
    'Point it at the simulator with --authority-host and --graph-base-url (https) and --ca-file.',
  ].join('\n');
}

async function main(): Promise<void> {
  // `m365-status users …`, `vault …` and `migrate …` manage a shared deployment; anything else starts the daemon.
  const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(text);
  if (process.argv[2] === 'users') {
    process.exitCode = await usersCommand(process.argv.slice(3), { env: process.env, stdout: write(process.stdout), stderr: write(process.stderr) });
    return;
  }
  if (process.argv[2] === 'migrate') {
    process.exitCode = await migrateCommand(process.argv.slice(3), { env: process.env, stdout: write(process.stdout), stderr: write(process.stderr) });
    return;
  }
  if (process.argv[2] === 'vault') {
    await runVaultCommand(process.argv.slice(3), {
      env: process.env,
      print: (text) => process.stdout.write(text),
      warn: (line) => process.stderr.write(`${line}\n`),
    });
    return;
  }
  const { help, version, overrides } = parseDaemonArguments(process.argv.slice(2));
  if (help) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  if (version) {
    process.stdout.write(`${daemonVersion}\n`);
    return;
  }
  const config = loadConfig({ overrides });
  const logger = createDaemonLogger(config);
  const daemon = await Daemon.start({ config, logger });
  // Only once the store is in memory: loading it grows the heap from nothing to its users, and under the
  // bound each 30% of that growth was a full collection, a third of a restart's time with many users.
  limitHeapGrowth();
  process.stdout.write(`m365-status daemon listening on ${daemon.url} (data: ${daemon.dataDir})\n`);

  let signals = 0;
  const stop = (signal: string): void => {
    signals++;
    if (signals > 1) process.exit(1);
    logger.info('signal received', { signal });
    // A bound on shutdown: in-flight work gets its time, then the process goes regardless.
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5_000);
    force.unref();
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: (error as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  const message = isAppError(error) ? error.message : error instanceof Error ? error.message : String(error);
  process.stderr.write(`m365-status daemon: ${message}\n`);
  process.exit(isAppError(error) && error.code === 'CONFIG_INVALID' ? 2 : 1);
});
