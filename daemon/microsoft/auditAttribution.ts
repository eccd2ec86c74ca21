import type { Client } from '@microsoft/microsoft-graph-client';
import { credentialRequirements } from '../../protocol/credentialRequirements';
import { classifyMicrosoftFailure } from './microsoftFailure';

export const auditPermission = credentialRequirements.auditLogRole;

export type AccountChangeAttribution =
  | { known: true; actor: string; at: number }
  | { known: false; reason: string };

interface AuditEntry {
  activityDateTime?: string;
  initiatedBy?: {
    user?: { userPrincipalName?: string | null; displayName?: string | null } | null;
    app?: { displayName?: string | null; appId?: string | null } | null;
  };
  targetResources?: Array<{ id?: string; modifiedProperties?: Array<{ displayName?: string; newValue?: string }> }>;
}

/**
 * Who last set the user's `accountEnabled` to `enabled`, from the directory audit log. Entries reach the
 * log minutes after the change, so "not found yet" is an answer too.
 */
export async function attributeAccountChange(
  client: Client,
  userId: string,
  enabled: boolean,
  since: number,
): Promise<AccountChangeAttribution> {
  let entries: AuditEntry[];
  try {
    const page = (await client
      .api('/auditLogs/directoryAudits')
      .filter(`activityDateTime ge ${new Date(since).toISOString()} and targetResources/any(t:t/id eq '${userId}')`)
      .top(50)
      .get()) as { value?: AuditEntry[] };
    entries = page.value ?? [];
  } catch (error) {
    const failure = classifyMicrosoftFailure(error);
    if (failure.status === 403) {
      return { known: false, reason: `unknown: the app lacks ${auditPermission}, which would show who made the change` };
    }
    return { known: false, reason: `unknown: the audit log could not be read (${failure.code})` };
  }
  const wanted = `[${enabled}]`;
  for (const entry of entries) {
    const target = entry.targetResources?.find((t) => t.id === userId);
    const change = target?.modifiedProperties?.find((p) => p.displayName === 'AccountEnabled' && p.newValue === wanted);
    if (!change) continue;
    const by = entry.initiatedBy;
    const actor = by?.user?.userPrincipalName ?? by?.user?.displayName ?? (by?.app?.displayName ? `app ${by.app.displayName}` : null);
    if (!actor) continue;
    return { known: true, actor, at: Date.parse(entry.activityDateTime ?? '') || since };
  }
  return { known: false, reason: 'unknown: not in the audit log yet (entries arrive within minutes)' };
}
