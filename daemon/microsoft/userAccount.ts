import type { Client } from '@microsoft/microsoft-graph-client';

export interface UserSignInState {
  id: string;
  userPrincipalName: string;
  displayName: string | null;
  accountEnabled: boolean;
  onPremisesSyncEnabled: boolean | null;
}

/** The user as Graph has it now, to decide an action on fact rather than on the cache. */
export async function readUserSignInState(client: Client, userId: string): Promise<UserSignInState> {
  const raw = (await client
    .api(`/users/${encodeURIComponent(userId)}`)
    .select('id,userPrincipalName,displayName,accountEnabled,onPremisesSyncEnabled')
    .get()) as Record<string, unknown>;
  return {
    id: String(raw.id),
    userPrincipalName: typeof raw.userPrincipalName === 'string' ? raw.userPrincipalName : '',
    displayName: typeof raw.displayName === 'string' ? raw.displayName : null,
    accountEnabled: raw.accountEnabled === true,
    onPremisesSyncEnabled: typeof raw.onPremisesSyncEnabled === 'boolean' ? raw.onPremisesSyncEnabled : null,
  };
}

/** Disables (lock) or enables (unlock) sign-in: `PATCH /users/{id}`, answered 204 by Graph. */
export async function setAccountEnabled(client: Client, userId: string, enabled: boolean): Promise<void> {
  await client.api(`/users/${encodeURIComponent(userId)}`).patch({ accountEnabled: enabled });
}

/** Invalidates the user's refresh tokens and session cookies. Access tokens live until they expire. */
export async function revokeSignInSessions(client: Client, userId: string): Promise<void> {
  await client.api(`/users/${encodeURIComponent(userId)}/revokeSignInSessions`).post({});
}
