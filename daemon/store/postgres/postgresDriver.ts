import type pg from 'pg';

let loading: Promise<typeof pg> | undefined;

/**
 * The PostgreSQL driver, loaded the first time a shared deployment needs it. A local daemon never does:
 * loading it was about a tenth of the CPU of a daemon's start, Node's fetch module included, which the
 * driver loads to look for a Cloudflare runtime.
 */
export function postgresDriver(): Promise<typeof pg> {
  loading ??= import('pg').then((module) => module.default);
  return loading;
}
