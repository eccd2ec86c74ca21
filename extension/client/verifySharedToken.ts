import type { SessionView } from '../../protocol/daemonApi';
import { DaemonApiError } from './daemonApiError';
import { DaemonClient } from './daemonClient';
import type { DaemonLocation } from './daemonLocator';

/**
 * Asks a shared deployment who a token belongs to (`GET /v1/session`) before it is kept, so a mistyped
 * or revoked token is refused at sign-in rather than at the first action. The errors name the problem
 * and never the token.
 */
export async function verifySharedToken(location: Omit<DaemonLocation, 'mode'>, options: { timeoutMs?: number } = {}): Promise<SessionView> {
  const client = new DaemonClient({ endpoint: () => ({ ...location, mode: 'shared' }), timeoutMs: options.timeoutMs ?? 15_000 });
  try {
    let session: SessionView;
    try {
      session = await client.session();
    } catch (error) {
      if (error instanceof DaemonApiError && error.status === 401) {
        throw new Error(`The shared deployment at ${location.url} refused this token: it is mistyped, or was revoked. Ask an admin for a new one.`, { cause: error });
      }
      if (error instanceof DaemonApiError && error.status === 404) {
        throw new Error(`${location.url} answered, but not as an m365-status shared deployment (it has no /v1/session).`, { cause: error });
      }
      throw error;
    }
    if (session.mode !== 'shared') {
      throw new Error(`${location.url} is an engineer's local daemon, not a shared deployment; a local daemon is found through its data directory instead.`);
    }
    return session;
  } finally {
    client.dispose();
  }
}
