import * as z from 'zod';
import { DurableJsonFile } from './durableJsonFile';
import { loadStoreFile } from './loadStoreFile';
import { STORE_SCHEMA_VERSION } from './storeSchema';
import type { StoredTenant } from './storeTypes';

const time = z.number().int().nonnegative();

/**
 * One tenant's sync bookkeeping: "as of", the last attempt, when a repeated failure last happened, and
 * the newest delta link whose users are on disk, numbered by the round that brought it (`deltaRound`)
 * so that it can be told apart from an older or newer one in the tenant's users files.
 */
const tenantSyncStateSchema = z.object({
  lastSyncAt: time.nullable(),
  lastAttemptAt: time.nullable(),
  lastErrorAt: time.nullable(),
  deltaLink: z.string().nullable(),
  deltaRound: z.number().int().nonnegative(),
});
export type TenantSyncState = z.infer<typeof tenantSyncStateSchema>;

const syncStateFileSchema = z.object({
  schemaVersion: z.literal(STORE_SCHEMA_VERSION),
  tenants: z.record(z.string(), tenantSyncStateSchema),
});
type SyncStateFile = z.infer<typeof syncStateFileSchema>;

/** The delta link a tenant's users files do not hold yet, for `sync-state.json`. */
export interface DurableDeltaLink {
  deltaLink: string | null;
  deltaRound: number;
}

/**
 * `sync-state.json`: what every quiet round moves forward for every tenant, in one small file written at
 * checkpoints. Kept apart from `store.json` (tenants, tasks, activities: large, and rewritten whole) and
 * from the users files (one per tenant, where a few hundred bytes each would cost a page each), so that
 * a checkpoint after quiet rounds writes one file of about 550 bytes per tenant. Losing it (a crash
 * before a checkpoint) loses only bookkeeping the next sync recomputes: older "as of" times, and an older
 * delta link that makes Graph send again changes already applied.
 */
export class LowdbSyncState {
  readonly file: DurableJsonFile<SyncStateFile>;
  readonly #loaded: SyncStateFile;
  #dirty = false;

  private constructor(file: DurableJsonFile<SyncStateFile>, loaded: SyncStateFile) {
    this.file = file;
    this.#loaded = loaded;
  }

  static async open(path: string): Promise<LowdbSyncState> {
    const file = new DurableJsonFile<SyncStateFile>(path);
    const db = await loadStoreFile(file, syncStateFileSchema, (): SyncStateFile => ({ schemaVersion: STORE_SCHEMA_VERSION, tenants: {} }));
    return new LowdbSyncState(file, db.data);
  }

  /** What the file held for the tenant when it was opened. */
  loaded(tenantId: string): TenantSyncState | undefined {
    return Object.hasOwn(this.#loaded.tenants, tenantId) ? this.#loaded.tenants[tenantId] : undefined;
  }

  /** Moves the tenant's times forward to what the file held, where it is newer than the main file's. */
  applyTo(tenant: StoredTenant): void {
    const state = this.loaded(tenant.id);
    if (!state) return;
    tenant.lastSyncAt = later(tenant.lastSyncAt, state.lastSyncAt);
    tenant.lastAttemptAt = later(tenant.lastAttemptAt, state.lastAttemptAt);
    if (tenant.lastError && state.lastErrorAt !== null) tenant.lastError.at = Math.max(tenant.lastError.at, state.lastErrorAt);
  }

  markDirty(): void {
    this.#dirty = true;
  }

  get dirty(): boolean {
    return this.#dirty;
  }

  /** Writes the bookkeeping of every tenant now listed; the file's text is skipped when it is unchanged. */
  save(tenants: readonly StoredTenant[], deltaLinks: (tenantId: string) => DurableDeltaLink | undefined): Promise<void> {
    this.#dirty = false;
    const data: SyncStateFile = { schemaVersion: STORE_SCHEMA_VERSION, tenants: {} };
    for (const tenant of tenants) {
      const link = deltaLinks(tenant.id);
      data.tenants[tenant.id] = {
        lastSyncAt: tenant.lastSyncAt,
        lastAttemptAt: tenant.lastAttemptAt,
        lastErrorAt: tenant.lastError?.at ?? null,
        deltaLink: link?.deltaLink ?? null,
        deltaRound: link?.deltaRound ?? 0,
      };
    }
    return this.file.write(data);
  }
}

function later(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
