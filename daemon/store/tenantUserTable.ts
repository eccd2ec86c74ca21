import type { StoredUser, UserCounts, UserLock, UserPage, UserQuery } from './storeTypes';
import type { FrozenUsers } from './usersLog';

/**
 * One user in memory: a fixed shape, so that a tenant of 100,000 users costs one small object each.
 * Rows are never changed in place (but for `lastVerifiedAt`, which does not affect order): a change
 * replaces the row, so the old row still carries the key it was sorted by.
 */
class UserRow {
  /** Both names lower-cased, made by the first text search that reaches the row. */
  searchText: string | undefined = undefined;

  constructor(
    readonly id: string,
    readonly userPrincipalName: string,
    readonly displayName: string | null,
    readonly accountEnabled: boolean,
    readonly onPremisesSyncEnabled: boolean | null,
    readonly lastChangedAt: number,
    public lastVerifiedAt: number,
    readonly lock: UserLock | null,
  ) {}

  /** 0: locked by the product, 1: otherwise disabled, 2: enabled; the order of a users page. */
  get rank(): number {
    return this.lock ? 0 : this.accountEnabled ? 2 : 1;
  }
}

// One collator for every comparison: `localeCompare` builds one per call, which is most of a sort's time.
// Unicode's root collation, not the machine's locale, so that a page reads in the same order on every
// machine and in the shared store (which sorts with the same collation).
const collator = new Intl.Collator('und');

function compareRows(a: UserRow, b: UserRow): number {
  return (
    a.rank - b.rank ||
    collator.compare(a.displayName ?? a.userPrincipalName, b.displayName ?? b.userPrincipalName) ||
    collator.compare(a.userPrincipalName, b.userPrincipalName)
  );
}

/** Rows per block of the page order: small enough that an insert moves little, few enough to walk. */
const BLOCK_ROWS = 512;

/**
 * Rows in page order, in blocks of at most 2 × BLOCK_ROWS, so that putting one row in place moves at most
 * a block's worth of entries instead of every row after it in one long array.
 */
class OrderedRows {
  #blocks: UserRow[][] = [];
  #length = 0;

  static from(sorted: readonly UserRow[]): OrderedRows {
    const rows = new OrderedRows();
    for (let i = 0; i < sorted.length; i += BLOCK_ROWS) rows.#blocks.push(sorted.slice(i, i + BLOCK_ROWS));
    rows.#length = sorted.length;
    return rows;
  }

  get length(): number {
    return this.#length;
  }

  insert(row: UserRow): void {
    const blockIndex = Math.min(this.#blockFor(row), this.#blocks.length - 1);
    const block = this.#blocks[blockIndex];
    if (!block) {
      this.#blocks.push([row]);
    } else {
      block.splice(lowerBound(block, row), 0, row);
      if (block.length > 2 * BLOCK_ROWS) this.#blocks.splice(blockIndex, 1, block.slice(0, BLOCK_ROWS), block.slice(BLOCK_ROWS));
    }
    this.#length++;
  }

  /** False when the row is not where its key says (it is then not here at all). */
  remove(row: UserRow): boolean {
    // Rows with equal keys may lie in several blocks: look from the first block that could hold the key.
    for (let b = this.#blockFor(row); b < this.#blocks.length; b++) {
      const block = this.#blocks[b] as UserRow[];
      for (let i = lowerBound(block, row); i < block.length; i++) {
        const at = block[i] as UserRow;
        if (at === row) {
          block.splice(i, 1);
          if (block.length === 0) this.#blocks.splice(b, 1);
          this.#length--;
          return true;
        }
        if (compareRows(at, row) !== 0) return false;
      }
    }
    return false;
  }

  /** Rows `start` (inclusive) to `end` (exclusive) in page order. */
  slice(start: number, end: number): UserRow[] {
    const out: UserRow[] = [];
    let skipped = 0;
    for (const block of this.#blocks) {
      if (out.length >= end - start) break;
      if (skipped + block.length <= start) {
        skipped += block.length;
        continue;
      }
      const from = Math.max(0, start - skipped);
      out.push(...block.slice(from, from + (end - start - out.length)));
      skipped += block.length;
    }
    return out;
  }

  filter(predicate: (row: UserRow) => boolean): UserRow[] {
    const out: UserRow[] = [];
    for (const block of this.#blocks) for (const row of block) if (predicate(row)) out.push(row);
    return out;
  }

  /** The first block whose last row is not before `row`, or the number of blocks if there is none. */
  #blockFor(row: UserRow): number {
    let low = 0;
    let high = this.#blocks.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const last = (this.#blocks[middle] as UserRow[]).at(-1) as UserRow;
      if (compareRows(last, row) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/**
 * One tenant's users in memory, with what reads need kept ready: counts by state, updated on every
 * change, and the order of a users page, kept by inserting a changed user in place once it has been read. A Map, not an object: user ids come from outside (a URL path),
 * and `constructor` or `__proto__` must be a user that is not there, not something inherited.
 */
export class TenantUserTable {
  readonly #rows = new Map<string, UserRow>();
  /**
   * Every row in page order, or null until the first read, which sorts once: loading a tenant from disk
   * sorts once instead of putting each row in place. From then on each change is put in place, so a
   * large tenant's first sync, read page by page meanwhile, never sorts the whole tenant.
   */
  #ordered: OrderedRows | null = null;
  readonly #counts: UserCounts = { total: 0, enabled: 0, disabled: 0, locked: 0 };

  get size(): number {
    return this.#rows.size;
  }

  has(userId: string): boolean {
    return this.#rows.has(userId);
  }

  /** A fresh copy of the user, or undefined; `verifiedAsOf` is the tenant's last successful sync. */
  get(userId: string, verifiedAsOf = 0): StoredUser | undefined {
    const row = this.#rows.get(userId);
    return row ? toStoredUser(row, verifiedAsOf) : undefined;
  }

  lastChangedAt(userId: string): number | undefined {
    return this.#rows.get(userId)?.lastChangedAt;
  }

  /** Adds the user or replaces what is known of it. */
  set(user: StoredUser): void {
    const row = new UserRow(
      user.id,
      user.userPrincipalName,
      user.displayName,
      user.accountEnabled,
      user.onPremisesSyncEnabled,
      user.lastChangedAt,
      user.lastVerifiedAt,
      user.lock ? { by: user.lock.by, at: user.lock.at, revokedSessions: user.lock.revokedSessions } : null,
    );
    const previous = this.#rows.get(user.id);
    if (previous) this.#forget(previous);
    this.#rows.set(user.id, row);
    this.#count(row, 1);
    this.#place(row);
  }

  delete(userId: string): boolean {
    const row = this.#rows.get(userId);
    if (!row) return false;
    this.#forget(row);
    this.#rows.delete(userId);
    return true;
  }

  /** Moves `lastVerifiedAt` forward: bookkeeping, which changes neither counts nor order. */
  verify(userId: string, at: number): boolean {
    const row = this.#rows.get(userId);
    if (!row || row.lastVerifiedAt >= at) return false;
    row.lastVerifiedAt = at;
    return true;
  }

  ids(): IterableIterator<string> {
    return this.#rows.keys();
  }

  /**
   * Every user as they are now, copied later a slice at a time, for a snapshot written while changes go
   * on: `set` replaces a row rather than changing it, so holding the rows freezes them for the cost of one
   * array. Only `lastVerifiedAt` may move on meanwhile, and a later one is as true.
   */
  frozen(): FrozenUsers {
    const rows = Array.from(this.#rows.values());
    return { length: rows.length, slice: (start, end) => rows.slice(start, end).map((row) => toStoredUser(row, 0)) };
  }

  counts(): UserCounts {
    return { ...this.#counts };
  }

  /** A page in the order of `Store.listUsers`; `verifiedAsOf` is the tenant's last successful sync. */
  page(query: UserQuery, verifiedAsOf: number): UserPage {
    const ordered = this.#order();
    const offset = Math.max(0, query.offset ?? 0);
    const limit = Math.max(0, query.limit ?? 100);
    const text = query.text?.trim().toLowerCase();
    if (text) {
      const matching = ordered.filter((row) => matchesState(row, query) && matchesText(row, text));
      return { users: matching.slice(offset, offset + limit).map((row) => toStoredUser(row, verifiedAsOf)), total: matching.length };
    }
    // The states are the ranks, and the order puts each rank in one run: a page is a slice of it.
    const { locked, disabled } = this.#counts;
    const [start, end] = !query.state
      ? [0, ordered.length]
      : query.state === 'locked'
        ? [0, locked]
        : query.state === 'disabled'
          ? [locked, locked + disabled]
          : [locked + disabled, ordered.length];
    const from = Math.min(end, start + offset);
    return {
      users: ordered.slice(from, Math.min(end, from + limit)).map((row) => toStoredUser(row, verifiedAsOf)),
      total: end - start,
    };
  }

  #order(): OrderedRows {
    if (!this.#ordered) this.#ordered = OrderedRows.from([...this.#rows.values()].sort(compareRows));
    return this.#ordered;
  }

  #forget(row: UserRow): void {
    this.#count(row, -1);
    if (this.#ordered && !this.#ordered.remove(row)) this.#ordered = null;
  }

  #place(row: UserRow): void {
    this.#ordered?.insert(row);
  }

  #count(row: UserRow, delta: number): void {
    this.#counts.total += delta;
    if (row.lock) this.#counts.locked += delta;
    else if (row.accountEnabled) this.#counts.enabled += delta;
    else this.#counts.disabled += delta;
  }
}

function lowerBound(ordered: readonly UserRow[], row: UserRow): number {
  let low = 0;
  let high = ordered.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const at = ordered[middle];
    if (at && compareRows(at, row) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

function matchesState(row: UserRow, query: UserQuery): boolean {
  // As UserView.state has it: a user the product locked is "locked", not "disabled".
  if (query.state === 'locked') return row.lock !== null;
  if (query.state === 'disabled') return !row.accountEnabled && !row.lock;
  if (query.state === 'enabled') return row.accountEnabled;
  return true;
}

function matchesText(row: UserRow, text: string): boolean {
  // A text with the separator in it could match across the two names: it takes the slow way.
  if (text.includes('\n')) return row.userPrincipalName.toLowerCase().includes(text) || (row.displayName ?? '').toLowerCase().includes(text);
  row.searchText ??= `${row.userPrincipalName.toLowerCase()}\n${(row.displayName ?? '').toLowerCase()}`;
  return row.searchText.includes(text);
}

function toStoredUser(row: UserRow, verifiedAsOf: number): StoredUser {
  return {
    id: row.id,
    userPrincipalName: row.userPrincipalName,
    displayName: row.displayName,
    accountEnabled: row.accountEnabled,
    onPremisesSyncEnabled: row.onPremisesSyncEnabled,
    lastChangedAt: row.lastChangedAt,
    lastVerifiedAt: Math.max(row.lastVerifiedAt, verifiedAsOf),
    lock: row.lock ? { ...row.lock } : null,
  };
}
