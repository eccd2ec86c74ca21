import type { Clock } from '../clock';
import { systemClock } from '../clock';
import type { LogFields, Logger } from './logger';

export interface RefusalThrottleOptions {
  windowMs?: number;
  clock?: Pick<Clock, 'now'>;
  /** Kinds of refusal tracked at once; beyond it, every further kind shares one count. */
  maxKinds?: number;
}

export interface ThrottledLogger extends Logger {
  /** Reports every count still open, e.g. as the process exits. */
  flush(): void;
}

interface Window {
  startedAt: number;
  suppressed: number;
  fields: LogFields;
}

const countFormat = new Intl.NumberFormat('en-US');

/**
 * Any process on the machine, and any web page in a browser, can make the daemon refuse requests, and
 * each refusal is a log line. The first refusal of a kind in a window is logged as it is; the rest are
 * counted and reported once when the window ends: "refused 19,999 more requests like this in the last
 * 60 s". A kind is the answer (status and code) to one method on one part of the API.
 */
export function throttleRefusals(logger: Logger, options: RefusalThrottleOptions = {}): ThrottledLogger {
  const windowMs = options.windowMs ?? 60_000;
  const clock = options.clock ?? systemClock;
  const maxKinds = options.maxKinds ?? 64;
  const windows = new Map<string, Window>();

  const report = (window: Window, now: number): void => {
    if (window.suppressed === 0) return;
    const seconds = Math.max(1, Math.round((now - window.startedAt) / 1000));
    logger.warn(`refused ${countFormat.format(window.suppressed)} more ${window.suppressed === 1 ? 'request' : 'requests'} like this in the last ${seconds} s`, {
      ...window.fields,
      refusedMore: window.suppressed,
    });
  };
  const closeExpired = (now: number): void => {
    for (const [kind, window] of windows) {
      if (now - window.startedAt < windowMs) continue;
      report(window, now);
      windows.delete(kind);
    }
  };
  // Counts are reported even when the refusals stop: once per window at the latest.
  const timer = setInterval(() => closeExpired(clock.now()), windowMs);
  timer.unref();

  const warn = (base: Logger, message: string, fields?: LogFields): void => {
    const kind = refusalKind(fields);
    if (kind === undefined) {
      base.warn(message, fields);
      return;
    }
    const now = clock.now();
    closeExpired(now);
    const key = windows.has(kind) || windows.size < maxKinds ? kind : 'other refusals';
    const open = windows.get(key);
    if (open) {
      open.suppressed++;
      return;
    }
    windows.set(key, { startedAt: now, suppressed: 0, fields: kindFields(fields) });
    base.warn(message, fields);
  };

  const wrap = (base: Logger): ThrottledLogger => ({
    debug: (message, fields) => base.debug(message, fields),
    info: (message, fields) => base.info(message, fields),
    warn: (message, fields) => warn(base, message, fields),
    error: (message, fields) => base.error(message, fields),
    child: (fields) => wrap(base.child(fields)),
    flush: () => {
      const now = clock.now();
      for (const window of windows.values()) report(window, now);
      windows.clear();
    },
  });
  return wrap(logger);
}

/** A request refused as the caller's fault (a 4xx answered over HTTP), by kind; undefined for anything else. */
function refusalKind(fields: LogFields | undefined): string | undefined {
  if (!fields || fields.source !== 'http') return undefined;
  const { status, code, operation } = fields;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  const [method = '', path = ''] = typeof operation === 'string' ? operation.split(' ', 2) : [];
  // The API's part (`/v1/tenants`), not the ids after it, which a caller can vary without end.
  const area = path.split('/').slice(0, 3).join('/').slice(0, 40);
  return `${status} ${String(code)} ${method} ${area}`;
}

function kindFields(fields: LogFields | undefined): LogFields {
  const { status, code, operation, source } = fields ?? {};
  return { status, code, source, operation };
}
