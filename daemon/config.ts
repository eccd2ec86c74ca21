import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import * as z from 'zod';
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

/** `host:port`, the host a name, an IPv4 address or a bracketed IPv6 address. */
const listenAddress = z
  .string()
  .transform((value, ctx) => {
    const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i.exec(value.trim());
    const port = Number(match?.[2]);
    if (!match?.[1] || port > 65535) {
      ctx.addIssue({ code: 'custom', message: 'expected host:port, such as 0.0.0.0:8443, 127.0.0.1:7070 or [::]:8443' });
      return z.NEVER;
    }
    return { host: match[1].replace(/^\[|\]$/g, ''), port };
  });

const yesNo = z.union([z.boolean(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'boolean') return value;
  const text = value.trim().toLowerCase();
  if (['true', 'yes', '1'].includes(text)) return true;
  if (['false', 'no', '0'].includes(text)) return false;
  ctx.addIssue({ code: 'custom', message: 'expected yes or no' });
  return z.NEVER;
});

const hostNames = z.string().transform((value, ctx) => {
  const names = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0 || !names.every((name) => /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i.test(name))) {
    ctx.addIssue({ code: 'custom', message: 'expected host names separated by commas, each with an optional :port, such as status.msp.example' });
    return z.NEVER;
  }
  return names;
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
  /** Each wait is the interval less up to this fraction of it, so tenants registered together drift apart. */
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
  /**
   * Shared mode: how long a daemon's hold on its tenants lasts without renewal (renewed three times as
   * often). A daemon that dies has its tenants taken over once it has passed, so a shorter lease means a
   * quicker takeover for a renewal query a few times a lease period.
   */
  tenantLeaseMs: { env: 'M365_STATUS_TENANT_LEASE', flag: '--tenant-lease', schema: duration(3 * SECOND, 10 * MINUTE).default(30 * SECOND) },
  /** Shared mode: the address the API listens on (local mode always listens on 127.0.0.1:--port). */
  listen: { env: 'M365_STATUS_LISTEN', flag: '--listen', schema: listenAddress.optional() },
  /** Shared mode: serve HTTPS with this certificate (PEM, with its chain) and key. */
  tlsCert: { env: 'M365_STATUS_TLS_CERT', flag: '--tls-cert', schema: z.string().min(1).optional() },
  tlsKey: { env: 'M365_STATUS_TLS_KEY', flag: '--tls-key', schema: z.string().min(1).optional() },
  /** Shared mode: plain HTTP on a non-loopback address is allowed because a proxy in front ends TLS. */
  tlsTerminatedUpstream: { env: 'M365_STATUS_TLS_TERMINATED_UPSTREAM', flag: '--tls-terminated-upstream', schema: yesNo.default(false) },
  /** Shared mode: the names clients reach the daemon by; other `Host` headers are refused. */
  publicHost: { env: 'M365_STATUS_PUBLIC_HOST', flag: '--public-host', schema: hostNames.optional() },
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
  checkListenSettings(config, overrides, env, source.home ?? homedir());
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

/**
 * The listen settings belong to shared mode, whose every request carries an engineer's token: the local
 * daemon stays on loopback with its token file. A shared daemon on a non-loopback address sends those
 * tokens over the network, so it needs TLS, its own or a proxy's said explicitly.
 */
function checkListenSettings(
  config: { -readonly [K in SettingName]: z.output<Settings[K]['schema']> },
  overrides: ConfigOverrides,
  env: Readonly<Record<string, string | undefined>>,
  home: string,
): void {
  // As the operator gave it; a setting not given at all is named by its flag.
  const labelOf = (name: SettingName): string =>
    overrides[name] === undefined && emptyToUndefined(env[SETTINGS[name].env]) !== undefined ? SETTINGS[name].env : SETTINGS[name].flag;
  const first = (['listen', 'tlsCert', 'tlsKey', 'publicHost', 'tlsTerminatedUpstream'] as const).find((name) =>
    name === 'tlsTerminatedUpstream' ? config[name] : config[name] !== undefined,
  );
  if (storeMode(config) === 'local') {
    if (first !== undefined) {
      throw invalidSetting(labelOf(first), `applies to shared mode (${labelOf('store')}) only: the local daemon listens on 127.0.0.1 (${labelOf('port')})`);
    }
    return;
  }
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    const missing = config.tlsCert === undefined ? 'tlsCert' : 'tlsKey';
    const given = missing === 'tlsCert' ? 'tlsKey' : 'tlsCert';
    throw invalidSetting(labelOf(missing), `is needed with ${labelOf(given)}: HTTPS takes a certificate and its private key`);
  }
  for (const name of ['tlsCert', 'tlsKey'] as const) {
    const path = config[name];
    if (path === undefined) continue;
    config[name] = expandHome(path, home);
    checkReadableFile(config[name], labelOf(name));
  }
  const host = config.listen?.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && config.tlsCert === undefined && !config.tlsTerminatedUpstream) {
    throw invalidSetting(
      labelOf('listen'),
      `${host} is not a loopback address, and engineers' tokens must not cross the network in clear: give ${labelOf('tlsCert')} and ${labelOf('tlsKey')} to serve HTTPS, or set ${labelOf('tlsTerminatedUpstream')} yes if a proxy in front of the daemon ends TLS`,
    );
  }
}

/** 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
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
