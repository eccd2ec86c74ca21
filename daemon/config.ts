import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { daemonContract, resolveDataDirectoryPath } from '../protocol/daemonContract';
import { AppError } from './errors/AppError';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY };

/** Accepts `1500ms`, `60s`, `15m`, `6h`, `14d` (a bare number from code is milliseconds). */
function duration(min: number, max: number) {
  return z
    .union([z.number(), z.string()])
    .transform((value, ctx) => {
      if (typeof value === 'number') return value;
      const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/i.exec(value);
      if (!match) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration with a unit, such as 90s, 15m, 6h or 14d' });
        return z.NEVER;
      }
      return Math.round(Number(match[1]) * (UNIT_MS[(match[2] ?? 'ms').toLowerCase()] ?? 1));
    })
    .pipe(
      z
        .number()
        .int()
        .min(min, { message: `must be at least ${formatDuration(min)}` })
        .max(max, { message: `must be at most ${formatDuration(max)}` }),
    );
}

function integer(min: number, max: number) {
  return z.coerce
    .number({ message: 'expected a whole number' })
    .int({ message: 'expected a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });
}

const contract = daemonContract.settings;
const pollInterval = () => duration(daemonContract.pollIntervalSeconds.min * SECOND, daemonContract.pollIntervalSeconds.max * SECOND);

const httpsUrl = z
  .url({ protocol: /^https$/, message: 'expected an https:// URL' })
  .transform((value) => value.replace(/\/+$/, ''));

/** A PostgreSQL connection string; its password, if any, is never repeated in an error. */
const postgresUrl = z.string().refine((value) => /^postgres(ql)?:\/\/./.test(value) && URL.canParse(value), {
  message: 'expected a postgres:// connection string (or leave it unset for the local store in the data directory)',
});

/**
 * Every setting: its environment variable, its command-line flag, its schema (which carries the default).
 * The schema is the runtime check and the type, so the two cannot drift.
 */
const SETTINGS = {
  dataDir: { ...contract.dataDirectory, schema: z.string().min(1).default(daemonContract.defaultDataDirectory) },
  // 0 lets the OS choose; the extension reads the actual port from the daemon file in the data directory.
  port: { ...contract.port, schema: integer(0, 65535).default(0) },
  pollIntervalMs: { ...contract.pollInterval, schema: pollInterval().default(60 * SECOND) },
  /** Each wait is the interval ± this fraction, so tenants registered together drift apart. */
  pollJitterRatio: {
    env: 'M365_STATUS_POLL_JITTER',
    flag: '--poll-jitter',
    schema: z.coerce.number({ message: 'expected a fraction such as 0.1' }).min(0).max(0.5, { message: 'must be at most 0.5' }).default(0.1),
  },
  staleAfterPolls: { ...contract.staleAfterPolls, schema: integer(1, 100).default(3) },
  inactiveAfterMs: { ...contract.inactiveAfter, schema: duration(MINUTE, 3650 * DAY).default(14 * DAY) },
  dormantAfterMs: { ...contract.dormantAfter, schema: duration(MINUTE, 3650 * DAY).default(30 * DAY) },
  inactivePollIntervalMs: {
    env: 'M365_STATUS_INACTIVE_POLL_INTERVAL',
    flag: '--inactive-poll-interval',
    schema: pollInterval().default(15 * MINUTE),
  },
  dormantPollIntervalMs: {
    env: 'M365_STATUS_DORMANT_POLL_INTERVAL',
    flag: '--dormant-poll-interval',
    schema: pollInterval().default(HOUR),
  },
  refreshDedupWindowMs: {
    env: 'M365_STATUS_REFRESH_DEDUP_WINDOW',
    flag: '--refresh-dedup-window',
    schema: duration(0, 30 * DAY).default(6 * HOUR),
  },
  maxConcurrentTenantSyncs: { env: 'M365_STATUS_MAX_CONCURRENT_SYNCS', flag: '--max-concurrent-syncs', schema: integer(1, 256).default(8) },
  maxConcurrentTasks: { env: 'M365_STATUS_MAX_CONCURRENT_TASKS', flag: '--max-concurrent-tasks', schema: integer(1, 256).default(4) },
  authorityHost: {
    env: 'M365_STATUS_AUTHORITY_HOST',
    flag: '--authority-host',
    schema: httpsUrl.default('https://login.microsoftonline.com'),
  },
  graphBaseUrl: { env: 'M365_STATUS_GRAPH_BASE_URL', flag: '--graph-base-url', schema: httpsUrl.default('https://graph.microsoft.com/v1.0') },
  /** A PEM bundle trusted in addition to the system roots: the simulator's CA, or a TLS-inspecting proxy's. */
  caFile: { env: 'M365_STATUS_CA_FILE', flag: '--ca-file', schema: z.string().min(1).optional() },
  /** Retries of a throttled or unavailable Graph call inside one sync, honouring Retry-After. */
  graphMaxRetries: { env: 'M365_STATUS_GRAPH_MAX_RETRIES', flag: '--graph-max-retries', schema: integer(0, 5).default(2) },
  graphTimeoutMs: { env: 'M365_STATUS_GRAPH_TIMEOUT', flag: '--graph-timeout', schema: duration(SECOND, 10 * MINUTE).default(30 * SECOND) },
  systemLogMaxEntries: { env: 'M365_STATUS_SYSTEM_LOG_MAX_ENTRIES', flag: '--system-log-max-entries', schema: integer(100, 1_000_000).default(5000) },
  /** How often sync bookkeeping that changed nothing else ("as of" times, delta links) is saved. */
  checkpointIntervalMs: { env: 'M365_STATUS_CHECKPOINT_INTERVAL', flag: '--checkpoint-interval', schema: duration(SECOND, HOUR).default(5 * MINUTE) },
  shutdownTimeoutMs: { env: 'M365_STATUS_SHUTDOWN_TIMEOUT', flag: '--shutdown-timeout', schema: duration(100, 5 * MINUTE).default(10 * SECOND) },
  /**
   * Unset: the local store, files in the data directory, for one engineer. A `postgres://` connection
   * string: the shared store of a team's deployment, used by every daemon given the same string.
   */
  store: { env: 'M365_STATUS_STORE', flag: '--store', schema: postgresUrl.optional() },
  /**
   * The shared store's vault key: a file holding it in base64 (the key itself can come from
   * M365_STATUS_VAULT_KEY instead, read by the vault and never kept in the config, which may be logged).
   */
  vaultKeyFile: { env: 'M365_STATUS_VAULT_KEY_FILE', flag: '--vault-key-file', schema: z.string().min(1).optional() },
  logLevel: { env: 'M365_STATUS_LOG_LEVEL', flag: '--log-level', schema: z.enum(['debug', 'info', 'warn', 'error']).default('info') },
} as const;

type Settings = typeof SETTINGS;
export type SettingName = keyof Settings;

export type Config = Readonly<{ [K in SettingName]: z.output<Settings[K]['schema']> }>;

/** Values given on the command line (already split into name → text by the CLI) or by code. */
export type ConfigOverrides = Partial<Record<SettingName, string | number | undefined>>;

export interface ConfigSource {
  env?: Readonly<Record<string, string | undefined>>;
  overrides?: ConfigOverrides;
  /** Where `~` and a relative data directory point; the real home directory unless a test says otherwise. */
  home?: string;
}

export const CONFIG_SETTINGS: ReadonlyArray<{ name: SettingName; env: string; flag: string }> = (
  Object.keys(SETTINGS) as SettingName[]
).map((name) => ({ name, env: SETTINGS[name].env, flag: SETTINGS[name].flag }));

/**
 * Reads and checks every setting once, at start. A bad value stops the daemon with an error that names
 * the setting as the operator wrote it (environment variable or flag), the value, and what is expected.
 */
export function loadConfig(source: ConfigSource = {}): Config {
  const env = source.env ?? process.env;
  const overrides = source.overrides ?? {};
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const setting = SETTINGS[name];
    const fromFlag = overrides[name];
    const raw = fromFlag ?? emptyToUndefined(env[setting.env]);
    const label = fromFlag !== undefined ? setting.flag : setting.env;
    const parsed = setting.schema.safeParse(raw);
    if (!parsed.success) {
      const reason = parsed.error.issues[0]?.message ?? 'invalid value';
      throw invalidSetting(label, `${reason} (got ${JSON.stringify(name === 'store' ? withoutPassword(raw) : raw)})`);
    }
    values[name] = parsed.data;
  }
  const config = values as { -readonly [K in SettingName]: z.output<Settings[K]['schema']> };

  config.dataDir = resolveDataDirectoryPath(config.dataDir, source.home ?? homedir(), { resolve });
  if (config.caFile !== undefined) {
    config.caFile = expandHome(config.caFile, source.home ?? homedir());
    checkReadableFile(config.caFile, labelOf('caFile', overrides));
  }
  if (config.vaultKeyFile !== undefined) {
    config.vaultKeyFile = expandHome(config.vaultKeyFile, source.home ?? homedir());
    checkReadableFile(config.vaultKeyFile, labelOf('vaultKeyFile', overrides));
  }
  if (config.dormantAfterMs <= config.inactiveAfterMs) {
    throw invalidSetting(
      labelOf('dormantAfterMs', overrides),
      `must be longer than ${labelOf('inactiveAfterMs', overrides)} (${formatDuration(config.dormantAfterMs)} is not longer than ${formatDuration(config.inactiveAfterMs)})`,
    );
  }
  return Object.freeze(config);
}

/** Local: one engineer's daemon on its own files. Shared: a team's daemons on one PostgreSQL database. */
export type StoreMode = 'local' | 'shared';

export function storeMode(config: Pick<Config, 'store'>): StoreMode {
  return config.store === undefined ? 'local' : 'shared';
}

/** A connection string fit for logs and errors: the password replaced. */
export function withoutPassword(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (!URL.canParse(value)) return value.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  const url = new URL(value);
  if (url.password !== '') url.password = '***';
  return url.toString();
}

function labelOf(name: SettingName, overrides: ConfigOverrides): string {
  return overrides[name] !== undefined ? SETTINGS[name].flag : SETTINGS[name].env;
}

function invalidSetting(label: string, reason: string): AppError {
  return new AppError({
    status: 400,
    code: 'CONFIG_INVALID',
    message: `Invalid setting ${label}: ${reason}.`,
    details: { setting: label },
  });
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** For other files named on the command line, where the working directory is the one the operator means. */
function expandHome(path: string, home: string): string {
  const expanded = path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
  return isAbsolute(expanded) ? expanded : resolve(expanded);
}

function checkReadableFile(path: string, label: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw invalidSetting(label, `no file at ${path}`);
  }
  if (!isFile) throw invalidSetting(label, `${path} is not a file`);
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', DAY],
    ['h', HOUR],
    ['m', MINUTE],
    ['s', SECOND],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
