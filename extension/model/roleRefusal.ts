import { roleAllows, type EngineerRole, type SessionView } from '../../protocol/daemonApi';
import type { RoleNeed } from '../common/commandTable';
import { sessionRole } from './sessionRole';

const ARTICLE: Readonly<Record<EngineerRole, string>> = { reader: 'a reader', operator: 'an operator', admin: 'an admin' };

/**
 * Why a command is refused before it asks for anything, or undefined when the session's role allows it.
 * Said up front so an engineer does not fill in a form (a client secret, a file) only for the daemon to
 * answer 403; the daemon still decides, this only spares the typing.
 */
export function roleRefusal(needs: RoleNeed, session: SessionView | undefined, mode: 'local' | 'shared'): string | undefined {
  const role = sessionRole(session, mode);
  if (roleAllows(role, needs.role)) {
    if (!needs.everyTenant || mode === 'local' || (session?.engineer.tenants ?? null) === null) return undefined;
    return `${needs.doing} concerns every customer of the deployment, and you are restricted to some tenants: ask an admin who is not.`;
  }
  if (role === undefined) return `${needs.doing} needs the ${needs.role} role, and the shared deployment has not yet said what yours is: wait until it is connected, or sign in.`;
  return `${needs.doing} needs the ${needs.role} role; you are signed in as ${ARTICLE[role]}.`;
}
