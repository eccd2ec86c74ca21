import type { Client } from '@microsoft/microsoft-graph-client';
import type { ObservedUser } from '../store/storeTypes';
import { classifyMicrosoftFailure } from './microsoftFailure';

/** Only what the product shows and decides on: a change to any other property does not wake us. */
export const userDeltaSelect = 'id,userPrincipalName,displayName,accountEnabled,onPremisesSyncEnabled';
const initialRound = `/users/delta?$select=${userDeltaSelect}`;

interface DeltaPage {
  value?: Array<Record<string, unknown>>;
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

export interface UserDeltaRound {
  users: ObservedUser[];
  removedUserIds: string[];
  deltaLink: string;
  /** Every user of the tenant came: any user not among them is gone. */
  fullRound: boolean;
  pages: number;
}

function observedUser(raw: Record<string, unknown>): ObservedUser | undefined {
  if (typeof raw.id !== 'string' || typeof raw.accountEnabled !== 'boolean') return undefined;
  return {
    id: raw.id,
    userPrincipalName: typeof raw.userPrincipalName === 'string' ? raw.userPrincipalName : '',
    displayName: typeof raw.displayName === 'string' ? raw.displayName : null,
    accountEnabled: raw.accountEnabled,
    onPremisesSyncEnabled: typeof raw.onPremisesSyncEnabled === 'boolean' ? raw.onPremisesSyncEnabled : null,
  };
}

async function followRound(client: Client, start: string, fullRound: boolean): Promise<UserDeltaRound> {
  // Graph may send a user more than once in a round (and replays): the last word counts.
  const users = new Map<string, ObservedUser>();
  const removed = new Set<string>();
  let next: string = start;
  let pages = 0;
  for (;;) {
    const page = (await client.api(next).get()) as DeltaPage;
    pages++;
    for (const raw of page.value ?? []) {
      if (typeof raw.id !== 'string') continue;
      if (raw['@removed']) {
        users.delete(raw.id);
        removed.add(raw.id);
        continue;
      }
      const user = observedUser(raw);
      if (user) {
        removed.delete(user.id);
        users.set(user.id, user);
      }
    }
    if (page['@odata.deltaLink']) {
      return { users: [...users.values()], removedUserIds: [...removed], deltaLink: page['@odata.deltaLink'], fullRound, pages };
    }
    if (!page['@odata.nextLink']) throw new Error('a delta page came with neither a nextLink nor a deltaLink');
    next = page['@odata.nextLink'];
  }
}

/**
 * One delta round: the changes since `deltaLink`, or every user when there is none or Graph no longer
 * knows it (expired after 7 days, or dropped), in which case the round is full and the caller replaces
 * what it had, so nothing changed in between is lost.
 */
export async function readUserChanges(client: Client, deltaLink: string | null): Promise<UserDeltaRound> {
  if (!deltaLink) return followRound(client, initialRound, true);
  try {
    return await followRound(client, deltaLink, false);
  } catch (error) {
    const failure = classifyMicrosoftFailure(error);
    if (!failure.resync) throw error;
    return followRound(client, failure.resyncUrl ?? initialRound, true);
  }
}
