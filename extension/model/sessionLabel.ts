import type { SessionView } from '../../protocol/daemonApi';

/**
 * Who this window acts as, in a few words for the status bar and the Tenants view: `shared · alice
 * (operator)`. Nothing for a local daemon, which is the engineer's own and needs no saying.
 */
export function sessionLabel(session: SessionView | undefined): string | undefined {
  if (session?.mode !== 'shared') return undefined;
  return `shared · ${session.engineer.name} (${session.engineer.role})`;
}
