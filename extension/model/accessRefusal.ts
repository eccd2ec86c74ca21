import type { SessionView } from '../../protocol/daemonApi';
import { DaemonApiError } from '../client/daemonApiError';

export interface AccessRefusal {
  /** Ends a sentence begun with the action's title: "Lock User: needs the operator role…". */
  message: string;
  /** The token itself was refused: signing in again is the way on. */
  signIn: boolean;
}

/**
 * A shared deployment's refusal in the engineer's words: a 401 means the token no longer counts (revoked
 * or wrong), a 403 that the engineer's role is below the action's. Undefined for any other failure.
 */
export function accessRefusal(error: unknown, session: SessionView | undefined): AccessRefusal | undefined {
  if (!(error instanceof DaemonApiError)) return undefined;
  if (error.status === 401 && session?.mode === 'shared') {
    return { message: 'the shared deployment refused your token: it was revoked or is wrong. Sign in again.', signIn: true };
  }
  if (error.status !== 403) return undefined;
  const who = session?.mode === 'shared' ? ` You are signed in as ${session.engineer.name} (${session.engineer.role}).` : '';
  if (error.requiredRole) return { message: `needs the ${error.requiredRole} role.${who}`, signIn: false };
  return { message: `${error.message}${who}`, signIn: false };
}
