import type { UserListQuery, UserPage, UserState, UserView } from '../../protocol/daemonApi';

/** What the users of a tenant are read from: the daemon client, or anything that answers the same. */
export interface UserSource {
  listUsers(tenantId: string, query: UserListQuery): Promise<UserPage>;
}

const STATE_RANK: Readonly<Record<UserState, number>> = { locked: 0, disabled: 1, enabled: 2 };

/**
 * Locked by the product first, then disabled elsewhere, then the rest; by name within each. The same
 * order as the daemon's `GET /v1/tenants/:id/users`, so pages read one after another line up.
 */
export function compareUsers(a: UserView, b: UserView): number {
  return (
    STATE_RANK[a.state] - STATE_RANK[b.state] ||
    (a.displayName ?? a.userPrincipalName).localeCompare(b.displayName ?? b.userPrincipalName) ||
    a.userPrincipalName.localeCompare(b.userPrincipalName) ||
    a.id.localeCompare(b.id)
  );
}

function freshness(user: UserView): number {
  return Math.max(user.lastVerifiedAt, user.lastChangedAt);
}

/**
 * The users of one tenant as far as they have been read: pages of the daemon's list, which puts locked
 * and disabled users first, so the first page of a 10,000-user tenant shows what matters without reading
 * the rest. Changes from the event stream keep what was read current and the daemon's offsets in step.
 */
export class TenantUsers {
  readonly #users = new Map<string, UserView>();
  /** As the daemon last said; undefined until the first page was read. */
  #total: number | undefined;
  /** The daemon's offset of the next page. */
  #nextOffset = 0;
  #loading: Promise<void> | undefined;
  #error: Error | undefined;

  constructor(
    readonly tenantId: string,
    private readonly source: UserSource,
    private readonly pageSize: number,
  ) {}

  /** True once a first page was read; the tree then shows what is here instead of loading. */
  get loaded(): boolean {
    return this.#total !== undefined;
  }

  get loading(): boolean {
    return this.#loading !== undefined;
  }

  /** The last load's failure, shown as a row with a retry until a load succeeds. */
  get error(): Error | undefined {
    return this.#error;
  }

  get size(): number {
    return this.#users.size;
  }

  sorted(): UserView[] {
    return [...this.#users.values()].sort(compareUsers);
  }

  find(userId: string): UserView | undefined {
    return this.#users.get(userId);
  }

  /** Users the daemon has that are not read yet; unknown (infinite) before the first page. */
  remaining(): number {
    return this.#total === undefined ? Number.POSITIVE_INFINITY : Math.max(0, this.#total - this.#nextOffset);
  }

  hasMore(): boolean {
    return this.remaining() > 0;
  }

  /** Reads the next page; concurrent calls share one read. */
  loadMore(): Promise<void> {
    this.#loading ??= this.#readPage().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #readPage(): Promise<void> {
    try {
      const page = await this.source.listUsers(this.tenantId, { offset: this.#nextOffset, limit: this.pageSize });
      for (const user of page.users) this.#users.set(user.id, user);
      this.#nextOffset += page.users.length;
      // An empty page while the total says more: the list shrank under us; trust the end.
      this.#total = page.users.length === 0 ? this.#nextOffset : page.total;
      this.#error = undefined;
    } catch (error) {
      this.#error = error instanceof Error ? error : new Error(String(error));
      throw this.#error;
    }
  }

  #complete(): boolean {
    return this.#total !== undefined && this.#nextOffset >= this.#total;
  }

  /** Whether a user sorts inside the part of the daemon's list already read. */
  #withinRead(user: UserView, complete: boolean): boolean {
    if (complete) return true;
    const last = this.sorted().at(-1);
    return last !== undefined && compareUsers(user, last) < 0;
  }

  /**
   * Changes from the event stream or an action's answer. An answer older than what is here is ignored,
   * so an event and a listing that cross each other cannot put back an old state. Answers whether
   * anything shown changed.
   */
  apply(users: readonly UserView[], removedUserIds: readonly string[] = []): boolean {
    if (this.#total === undefined) return false;
    let changed = false;
    for (const user of users) {
      const complete = this.#complete();
      const existing = this.#users.get(user.id);
      if (existing) {
        if (freshness(user) < freshness(existing)) continue;
        this.#users.delete(user.id);
        this.#nextOffset--;
        changed = true;
      } else {
        this.#total++;
      }
      if (this.#withinRead(user, complete)) {
        this.#users.set(user.id, user);
        this.#nextOffset++;
        changed = true;
      }
    }
    for (const userId of removedUserIds) {
      if (this.#users.delete(userId)) {
        this.#nextOffset--;
        changed = true;
      }
      this.#total = Math.max(0, this.#total - 1);
    }
    this.#nextOffset = Math.max(0, Math.min(this.#nextOffset, this.#total));
    return changed;
  }
}
