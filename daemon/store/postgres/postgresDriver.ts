import type pg from 'pg';

let loading: Promise<typeof pg> | undefined;

/**
 * The PostgreSQL driver, loaded the first time a shared deployment needs it. A local daemon never does:
 * loading it took about 11 ms of a start's CPU, most of it the driver's look for a Cloudflare runtime,
 * which builds a `Response` and so loads Node's fetch module.
 */
export function postgresDriver(): Promise<typeof pg> {
  loading ??= import('pg').then((module) => module.default);
  return loading;
}
