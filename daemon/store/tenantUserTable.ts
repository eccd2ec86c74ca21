import type { StoredUser, UserCounts, UserLock, UserPage, UserQuery } from './storeTypes';
import type { FrozenUsers } from './usersLog';

/** `UserRow.flags`: the account's state in bits, so that it costs one small integer, not three fields. */
const ENABLED = 1;
const LOCKED = 2;
const ON_PREMISES_KNOWN = 4;
const ON_PREMISES = 8;

/**
 * One user in memory: what a users page shows and sorts by, in as few fields as will do, since a
 * quarter of a million of them are the daemon's largest cost. The times live in the table's columns at
 * `slot` (a number field would box each in an object of its own), a lock in the table's map of locks
 * (few users have one), a search's lower-cased names in a weak map (made only by a text search).
 * Rows are never changed in place: a change replaces the row, so the old row still carries the key it
 * was sorted by.
 */
class UserRow {
  constructor(
    readonly id: string,
    readonly userPrincipalName: string,
    readonly displayName: string | null,
    readonly flags: number,
    /** Where the user's times are in the table's columns; a replaced row passes it on to the new one. */
    readonly slot: number,
  ) {}

  get accountEnabled(): boolean {
    return (this.flags & ENABLED) !== 0;
  }

  get locked(): boolean {
    return (this.flags & LOCKED) !== 0;
  }

  get onPremisesSyncEnabled(): boolean | null {
    return this.flags & ON_PREMISES_KNOWN ? (this.flags & ON_PREMISES) !== 0 : null;
  }

  /** 0: locked by the product, 1: otherwise disabled, 2: enabled; the order of a users page. */
  get rank(): number {
    return this.locked ? 0 : this.accountEnabled ? 2 : 1;
  }
}

function flagsOf(user: StoredUser): number {
  return (
    (user.accountEnabled ? ENABLED : 0) |
    (user.lock ? LOCKED : 0) |
    (user.onPremisesSyncEnabled === null ? 0 : ON_PREMISES_KNOWN | (user.onPremisesSyncEnabled ? ON_PREMISES : 0))
  );
}

/**
 * Every user's `lastChangedAt` and `lastVerifiedAt`, two numbers per slot in one typed array, with the
 * slots of removed users handed out again.
 */
class TimeColumns {
  #times = new Float64Array(2 * 16);
  #used = 0;
  readonly #free: number[] = [];

  take(): number {
    const slot = this.#free.pop();
    if (slot !== undefined) return slot;
    if (2 * (this.#used + 1) > this.#times.length) {
      const grown = new Float64Array(this.#times.length * 2);
      grown.set(this.#times);
      this.#times = grown;
    }
    return this.#used++;
  }

  release(slot: number): void {
    this.#free.push(slot);
  }

  lastChangedAt(slot: number): number {
    return this.#times[2 * slot] as number;
  }

  lastVerifiedAt(slot: number): number {
    return this.#times[2 * slot + 1] as number;
  }

  set(slot: number, lastChangedAt: number, lastVerifiedAt: number): void {
    this.#times[2 * slot] = lastChangedAt;
    this.#times[2 * slot + 1] = lastVerifiedAt;
  }

  verify(slot: number, at: number): void {
    this.#times[2 * slot + 1] = at;
  }

  /** The columns as they are now, apart from later changes. */
  copy(): TimeColumns {
    const copy = new TimeColumns();
    copy.#times = this.#times.slice(0, 2 * this.#used);
    copy.#used = this.#used;
    return copy;
  }
}

/** Rows a text search of a large tenant looks at per turn of the event loop (see `TenantUserTable.search`). */
export const SEARCH_ROWS_PER_TURN = 10_000;

/** Both names lower-cased, made by the first text search that reaches a row and gone with the row. */
const searchTexts = new WeakMap<UserRow, string>();

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
  readonly #times = new TimeColumns();
  /** The lock of every user the product locked, by user id. */
  readonly #locks = new Map<string, UserLock>();
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
    return row ? this.#toStoredUser(row, verifiedAsOf) : undefined;
  }

  lastChangedAt(userId: string): number | undefined {
    const row = this.#rows.get(userId);
    return row ? this.#times.lastChangedAt(row.slot) : undefined;
  }

  lastVerifiedAt(userId: string): number | undefined {
    const row = this.#rows.get(userId);
    return row ? this.#times.lastVerifiedAt(row.slot) : undefined;
  }

  /** Adds the user or replaces what is known of it. */
  set(user: StoredUser): void {
    const previous = this.#rows.get(user.id);
    if (previous) this.#forget(previous);
    const row = new UserRow(user.id, user.userPrincipalName, user.displayName, flagsOf(user), previous ? previous.slot : this.#times.take());
    this.#times.set(row.slot, user.lastChangedAt, user.lastVerifiedAt);
    if (user.lock) this.#locks.set(user.id, { by: user.lock.by, at: user.lock.at, revokedSessions: user.lock.revokedSessions });
    else this.#locks.delete(user.id);
    this.#rows.set(user.id, row);
    this.#count(row, 1);
    this.#place(row);
  }

  delete(userId: string): boolean {
    const row = this.#rows.get(userId);
    if (!row) return false;
    this.#forget(row);
    this.#rows.delete(userId);
    this.#locks.delete(userId);
    this.#times.release(row.slot);
    return true;
  }

  /** Moves `lastVerifiedAt` forward: bookkeeping, which changes neither counts nor order. */
  verify(userId: string, at: number): boolean {
    const row = this.#rows.get(userId);
    if (!row || this.#times.lastVerifiedAt(row.slot) >= at) return false;
    this.#times.verify(row.slot, at);
    return true;
  }

  ids(): IterableIterator<string> {
    return this.#rows.keys();
  }

  /**
   * Every user as they are now, copied later a slice at a time, for a snapshot written while changes go
   * on: `set` replaces a row rather than changing it, so holding the rows, with a copy of the time columns
   * and of the locks (a slot or a lock may change or pass to another user meanwhile), freezes them for the
   * cost of one array, one typed-array copy and the few locks.
   */
  frozen(): FrozenUsers {
    const rows = Array.from(this.#rows.values());
    const times = this.#times.copy();
    const locks = new Map(this.#locks);
    return { length: rows.length, slice: (start, end) => rows.slice(start, end).map((row) => storedUser(row, times, locks, 0)) };
  }

  counts(): UserCounts {
    return { ...this.#counts };
  }

  /** A page in the order of `Store.listUsers`; `verifiedAsOf` is the tenant's last successful sync. */
  page(query: UserQuery, verifiedAsOf: number): UserPage {
    const ordered = this.#order();
    const text = query.text?.trim().toLowerCase();
    if (text) return this.#pageOf(ordered.filter((row) => matchesState(row, query) && matchesText(row, text)), query, verifiedAsOf);
    const offset = Math.max(0, query.offset ?? 0);
    const limit = Math.max(0, query.limit ?? 100);
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
      users: ordered.slice(from, Math.min(end, from + limit)).map((row) => this.#toStoredUser(row, verifiedAsOf)),
      total: end - start,
    };
  }

  /**
   * Like `page`, but a text search of a tenant larger than `SEARCH_ROWS_PER_TURN` looks at its rows a slice
   * per turn (`nextTurn` between slices): the first search of a large tenant lower-cases every name, about
   * 300 ms at 100,000 users, which would otherwise hold every other request and Graph answer behind it. The
   * rows looked at are those the tenant holds when the search starts; one changed meanwhile is looked at
   * again as it is at the end, and one removed is left out.
   */
  async search(query: UserQuery, verifiedAsOf: number, nextTurn: () => Promise<void>): Promise<UserPage> {
    const text = query.text?.trim().toLowerCase();
    if (!text || this.#rows.size <= SEARCH_ROWS_PER_TURN) return this.page(query, verifiedAsOf);
    // Without the page order at hand (as after a load), only the users found are put in order, at the end.
    const ordered = this.#ordered;
    const rows = ordered ? ordered.slice(0, ordered.length) : Array.from(this.#rows.values());
    const found: UserRow[] = [];
    for (let start = 0; start < rows.length; start += SEARCH_ROWS_PER_TURN) {
      if (start > 0) await nextTurn();
      const end = Math.min(rows.length, start + SEARCH_ROWS_PER_TURN);
      for (let i = start; i < end; i++) {
        const row = rows[i] as UserRow;
        if (matchesState(row, query) && matchesText(row, text)) found.push(row);
      }
    }
    // From here on nothing waits: each row is checked against the table as it is now.
    const matching: UserRow[] = [];
    for (const row of found) {
      const current = this.#rows.get(row.id);
      if (current === row || (current && matchesState(current, query) && matchesText(current, text))) matching.push(current);
    }
    if (!ordered) matching.sort(compareRows);
    return this.#pageOf(matching, query, verifiedAsOf);
  }

  /** The query's page of the users a text search found, in page order. */
  #pageOf(matching: UserRow[], query: UserQuery, verifiedAsOf: number): UserPage {
    const offset = Math.max(0, query.offset ?? 0);
    const limit = Math.max(0, query.limit ?? 100);
    return { users: matching.slice(offset, offset + limit).map((row) => this.#toStoredUser(row, verifiedAsOf)), total: matching.length };
  }

  #toStoredUser(row: UserRow, verifiedAsOf: number): StoredUser {
    return storedUser(row, this.#times, this.#locks, verifiedAsOf);
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
    if (row.locked) this.#counts.locked += delta;
    else if (row.accountEnabled) this.#counts.enabled += delta;
    else this.#counts.disabled += delta;
  }
}

/** A fresh copy of the user a row holds, with its times and lock from the table's (or a frozen copy's). */
function storedUser(row: UserRow, times: TimeColumns, locks: ReadonlyMap<string, UserLock>, verifiedAsOf: number): StoredUser {
  const lock = row.locked ? locks.get(row.id) : undefined;
  return {
    id: row.id,
    userPrincipalName: row.userPrincipalName,
    displayName: row.displayName,
    accountEnabled: row.accountEnabled,
    onPremisesSyncEnabled: row.onPremisesSyncEnabled,
    lastChangedAt: times.lastChangedAt(row.slot),
    lastVerifiedAt: Math.max(times.lastVerifiedAt(row.slot), verifiedAsOf),
    lock: lock ? { ...lock } : null,
  };
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
  if (query.state === 'locked') return row.locked;
  if (query.state === 'disabled') return !row.accountEnabled && !row.locked;
  if (query.state === 'enabled') return row.accountEnabled;
  return true;
}

function matchesText(row: UserRow, text: string): boolean {
  // A text with the separator in it could match across the two names: it takes the slow way.
  if (text.includes('\n')) return row.userPrincipalName.toLowerCase().includes(text) || (row.displayName ?? '').toLowerCase().includes(text);
  let searchText = searchTexts.get(row);
  if (searchText === undefined) {
    searchText = `${row.userPrincipalName.toLowerCase()}\n${(row.displayName ?? '').toLowerCase()}`;
    searchTexts.set(row, searchText);
  }
  return searchText.includes(text);
}
