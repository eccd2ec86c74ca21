import type { EngineerRole, SessionView } from '../../protocol/daemonApi';

/**
 * The role this window acts with. A shared deployment's session says; one's own local daemon belongs to
 * the machine's operator, who may do everything (it reports `admin`; one from before sessions reports
 * nothing). Undefined while a shared deployment's session is not read yet, so nothing is offered on a guess.
 */
export function sessionRole(session: SessionView | undefined, mode: 'local' | 'shared'): EngineerRole | undefined {
  return session?.engineer.role ?? (mode === 'local' ? 'admin' : undefined);
}
