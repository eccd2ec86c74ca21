import type { TenantView, UserState, UserView } from '../../protocol/daemonApi';
import { LIMITS } from '../../protocol/daemonApi';
import type { UserSource } from './tenantUsers';
import { compareUsers } from './tenantUsers';

export interface UserSearchHit {
  tenant: TenantView;
  user: UserView;
}

export interface UserSearchResult {
  hits: UserSearchHit[];
  /** Tenants that could not be searched, with why: shown, not hidden. */
  failures: Array<{ tenant: TenantView; message: string }>;
  /** Tenants with more matches than were read. */
  truncated: TenantView[];
}

export interface UserSearchOptions {
  /** Matches read per tenant and state. */
  perTenant?: number;
  /** Tenants searched at once. */
  concurrency?: number;
  /** Only users in these states (each is one request per tenant); all states when absent. */
  states?: readonly UserState[];
  /** Checked between requests; a newer search makes an older one stop. */
  isCancelled?: () => boolean;
}

/**
 * Why the daemon would refuse this search text, in the operator's words, or undefined when it is fine.
 * No user's name is longer than the daemon's bound, so a longer text can match no one anyway.
 */
export function searchTextProblem(text: string): string | undefined {
  return text.length > LIMITS.searchTextMaxLength
    ? `Search text is at most ${LIMITS.searchTextMaxLength} characters; no user's name is longer. Shorten it.`
    : undefined;
}

/**
 * Searches every tenant's users through the daemon (`text` matches display name and principal name
 * there), a few tenants at a time, so that a quick pick over 100 tenants of 2,500 users never reads
 * them all. Hits are grouped by tenant, locked first within each.
 */
export async function userSearch(source: UserSource, tenants: readonly TenantView[], text: string, options: UserSearchOptions = {}): Promise<UserSearchResult> {
  const perTenant = options.perTenant ?? 25;
  const states: ReadonlyArray<UserState | undefined> = options.states ?? [undefined];
  const queue = [...tenants];
  const result: UserSearchResult = { hits: [], failures: [], truncated: [] };
  const seen = new Set<string>();
  const worker = async (): Promise<void> => {
    for (let tenant = queue.shift(); tenant; tenant = queue.shift()) {
      if (options.isCancelled?.()) return;
      try {
        for (const state of states) {
          const page = await source.listUsers(tenant.id, {
            ...(text.trim() ? { text: text.trim() } : {}),
            ...(state ? { state } : {}),
            offset: 0,
            limit: perTenant,
          });
          for (const user of page.users) {
            // The daemon's `state=disabled` also lists locked users (they are disabled too): one row each.
            const key = `${tenant.id}/${user.id}`;
            if (seen.has(key)) continue;
            seen.add(key);
            result.hits.push({ tenant, user });
          }
          if (page.total > page.users.length && !result.truncated.includes(tenant)) result.truncated.push(tenant);
        }
      } catch (error) {
        result.failures.push({ tenant, message: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 6, tenants.length)) }, () => worker()));
  result.hits.sort(
    (a, b) =>
      a.tenant.displayName.localeCompare(b.tenant.displayName, undefined, { sensitivity: 'base' }) ||
      a.tenant.id.localeCompare(b.tenant.id) ||
      compareUsers(a.user, b.user),
  );
  return result;
}
