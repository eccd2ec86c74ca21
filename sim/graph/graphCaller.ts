import type { SimApp } from '../directory/simApp';
import type { SimTenant } from '../directory/simTenant';
import { insufficientPrivileges } from './graphFailure';

/** Who is calling Graph, from the validated access token. */
export interface GraphCaller {
  tenant: SimTenant;
  app: SimApp;
  appId: string;
  roles: ReadonlySet<string>;
}

export const readUserRoles = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
export const writeUserRoles = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];

export function hasAnyRole(caller: GraphCaller, roles: readonly string[]): boolean {
  return roles.some((role) => caller.roles.has(role));
}

/** Graph refuses with 403 `Authorization_RequestDenied` unless the token carries one of `roles`. */
export function requireAnyRole(caller: GraphCaller, roles: readonly string[]): void {
  if (!hasAnyRole(caller, roles)) throw insufficientPrivileges();
}
