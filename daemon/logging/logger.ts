import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { redactSecrets, redactText } from './redactSecrets';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Readonly<Record<string, unknown>>;

/** Structured, one JSON object per line; every line passes through secret redaction. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line, e.g. `{ tenantId }` for one tenant's poller. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Receives complete lines without the trailing newline: stderr, a file, or an array in a test. */
  write: (line: string) => void;
  level?: LogLevel;
  clock?: Clock;
}

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const clock = options.clock ?? systemClock;
  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (RANK[level] < threshold) return;
    const extra = redactSecrets({ ...bound, ...fields }) as Record<string, unknown>;
    const line = { time: new Date(clock.now()).toISOString(), level, msg: redactText(message), ...extra };
    options.write(JSON.stringify(line));
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}
