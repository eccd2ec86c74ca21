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

/** One page of a delta round, as Graph sent it. */
export interface UserDeltaPage {
  /** Users listed on this page (the last word of the page for a user listed twice). */
  users: ObservedUser[];
  /** Users this page reported as `@removed`. */
  removedUserIds: string[];
  /** Counts the pages of this round from 0; a round restarted in full starts again at 0. */
  index: number;
  /** The round lists every user of the tenant. */
  fullRound: boolean;
  /** Only on the round's last page: where the next round starts. */
  deltaLink?: string;
}

export interface UserDeltaSummary {
  deltaLink: string;
  fullRound: boolean;
  pages: number;
}

function readPage(page: DeltaPage): Pick<UserDeltaPage, 'users' | 'removedUserIds'> {
  // Graph may send a user more than once in a round (and replays): the last word counts.
  const users = new Map<string, ObservedUser>();
  const removed = new Set<string>();
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
  return { users: [...users.values()], removedUserIds: [...removed] };
}

/**
 * The next page is fetched while the caller applies the one before (its write waits for the disk), so a
 * long round costs the slower of the two per page, not their sum; pages are still handed over one at a
 * time and in order, and a failure waits for the page being applied before it is thrown.
 */
async function followRound(client: Client, start: string, fullRound: boolean, onPage: (page: UserDeltaPage) => Promise<void>): Promise<UserDeltaSummary> {
  let next: string = start;
  let index = 0;
  let applying: Promise<void> = Promise.resolve();
  try {
    for (;;) {
      const page = (await client.api(next).get()) as DeltaPage;
      const deltaLink = page['@odata.deltaLink'];
      if (!deltaLink && !page['@odata.nextLink']) throw new Error('a delta page came with neither a nextLink nor a deltaLink');
      await applying;
      applying = onPage({ ...readPage(page), index, fullRound, ...(deltaLink ? { deltaLink } : {}) });
      // Awaited before the next page is handed over or the round ends; until then its failure is held.
      applying.catch(() => undefined);
      index++;
      if (deltaLink) {
        await applying;
        return { deltaLink, fullRound, pages: index };
      }
      next = page['@odata.nextLink'] as string;
    }
  } catch (error) {
    await applying.catch(() => undefined);
    throw error;
  }
}

/**
 * One delta round, handed over page by page as Graph sends it, so that a tenant's first round (every
 * user) is never held whole: the changes since `deltaLink`, or every user when there is none or Graph no
 * longer knows it (expired after 7 days, or dropped). Then the round restarts in full (its pages count
 * from 0 again) and the caller replaces what it had, so nothing changed in between is lost. A page
 * handed over before a failure was what Graph said at the time, and stands.
 */
export async function followUserChanges(client: Client, deltaLink: string | null, onPage: (page: UserDeltaPage) => Promise<void>): Promise<UserDeltaSummary> {
  if (!deltaLink) return followRound(client, initialRound, true, onPage);
  try {
    return await followRound(client, deltaLink, false, onPage);
  } catch (error) {
    const failure = classifyMicrosoftFailure(error);
    if (!failure.resync) throw error;
    return followRound(client, failure.resyncUrl ?? initialRound, true, onPage);
  }
}

/** One whole delta round at once (see `followUserChanges`), for a caller that wants it in one piece. */
export async function readUserChanges(client: Client, deltaLink: string | null): Promise<UserDeltaRound> {
  const users = new Map<string, ObservedUser>();
  const removed = new Set<string>();
  const summary = await followUserChanges(client, deltaLink, async (page) => {
    if (page.index === 0) {
      users.clear();
      removed.clear();
    }
    for (const id of page.removedUserIds) {
      users.delete(id);
      removed.add(id);
    }
    for (const user of page.users) {
      removed.delete(user.id);
      users.set(user.id, user);
    }
  });
  return { users: [...users.values()], removedUserIds: [...removed], ...summary };
}
