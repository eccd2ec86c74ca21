import type { Request } from 'express';
import type { EngineerRole } from '../../protocol/daemonApi';

/** Who made a request, as authentication established it. */
export interface ApiCaller {
  /** The name activities record: the engineer's in shared mode; in local mode the operator's. */
  name: string;
  role: EngineerRole;
  /** Tenants this caller is restricted to (as registered, or the daemon's ids); null for every tenant. */
  tenants: readonly string[] | null;
}

const callers = new WeakMap<Request, ApiCaller>();

export function rememberCaller(request: Request, caller: ApiCaller): void {
  callers.set(request, caller);
}

/** The authenticated caller; a route reached without one is a bug in the middleware order. */
export function callerOf(request: Request): ApiCaller {
  const caller = callers.get(request);
  if (!caller) throw new Error(`${request.method} ${request.path} was reached without an authenticated caller`);
  return caller;
}
