import { z } from 'zod';
import type { EngineerRole } from '../protocol/daemonApi';
import type { CredentialHealthSnapshot } from './credentialHealthSnapshot';

/**
 * The messages between the credential-health page and the extension host, in one file both import. The
 * page imports only its types (so zod stays out of the page's bundle); the host checks every message
 * from the page with `pageMessageSchema` before acting on it.
 */

// ---- page → host -----------------------------------------------------------------------------------

const tenantId = z.string().min(1).max(64);

export const pageRequestSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('recheck'), tenantId }),
  z.strictObject({ kind: z.literal('recheckAll') }),
  z.strictObject({ kind: z.literal('rotate'), tenantId }),
  z.strictObject({ kind: z.literal('rotateProfile'), profileId: tenantId }),
]);
export type PageRequest = z.infer<typeof pageRequestSchema>;

export const pageMessageSchema = z.discriminatedUnion('type', [
  /** The page is loaded and listening: the host answers with a snapshot. Sent again after a reload. */
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('request'), requestId: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), request: pageRequestSchema }),
]);
export type PageMessage = z.infer<typeof pageMessageSchema>;

/** A message from the page, or undefined for anything else (which the host logs and ignores). */
export function parsePageMessage(value: unknown): PageMessage | undefined {
  const result = pageMessageSchema.safeParse(value);
  return result.success ? result.data : undefined;
}

// ---- host → page -----------------------------------------------------------------------------------

export interface ConnectionNote {
  /** False while the daemon is unreachable: the page says what it shows is not live. */
  live: boolean;
  text: string;
}

export type HostMessage =
  /**
   * `role`: the session's, so the page offers only what the daemon would allow (rotating is an admin's);
   * null while a shared deployment's session is not read yet.
   */
  | { type: 'snapshot'; snapshot: CredentialHealthSnapshot; connection: ConnectionNote; role: EngineerRole | null }
  | { type: 'reply'; requestId: number; ok: true; message: string | null }
  | { type: 'reply'; requestId: number; ok: false; message: string };

/** What the page keeps with `setState`, so it draws at once when shown again or after a reload. */
export interface PageState {
  snapshot: CredentialHealthSnapshot | null;
  connection: ConnectionNote | null;
  /** Absent from the state an earlier version of the page saved. */
  role?: EngineerRole | null;
}
