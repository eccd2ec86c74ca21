import type { Clock } from '../clock';
import { AppError } from '../errors/AppError';
import { handleError, type ErrorSinks } from '../errors/handleError';
import { microsoftFailureError } from '../errors/microsoftFailureError';
import type { ForegroundRequests } from '../foregroundRequests';
import { attributeAccountChange } from '../microsoft/auditAttribution';
import { classifyMicrosoftFailure, type MicrosoftFailure } from '../microsoft/microsoftFailure';
import { followUserChanges, type UserDeltaPage } from '../microsoft/userDelta';
import type { Store } from '../store/store';
import type { StoredUser, UserChangeBatch, UserChangeSummary } from '../store/storeTypes';
import { KeyedMutex } from '../tasks/keyedMutex';
import type { TenantConnections } from './tenantConnections';
import type { TenantStatusService } from './tenantStatusService';

/** What a round changed, summed over its pages. */
export interface SyncChanges {
  added: number;
  changed: number;
  removed: number;
  /** Users the product had locked that were found enabled, with the lock they had. */
  locksCleared: Array<{ user: StoredUser; before: StoredUser | undefined }>;
}

export type SyncOutcome =
  | { ok: true; changes: SyncChanges; fullRound: boolean; users: number }
  | { ok: false; failure: MicrosoftFailure };

export interface SyncRequest {
  /** Read every user again, whatever the delta link says ("Update AD cache"). */
  full?: boolean;
  taskId?: string;
  source: 'poller' | 'task';
}

/**
 * Brings one tenant's users up to date with a delta round, and records what that means: "as of", the
 * failure that stopped it, a lock someone cleared outside the product (with who did it, where the audit
 * log tells), and the tenant's status. One sync per tenant at a time, whoever asks.
 */
export class TenantSync {
  private readonly perTenant = new KeyedMutex();

  constructor(
    private readonly store: Store,
    private readonly connections: TenantConnections,
    private readonly status: TenantStatusService,
    private readonly clock: Clock,
    private readonly sinks: ErrorSinks,
    private readonly foregroundRequests: ForegroundRequests,
  ) {}

  sync(tenantId: string, request: SyncRequest): Promise<SyncOutcome> {
    return this.perTenant.run(tenantId, () => this.run(tenantId, request));
  }

  private async run(tenantId: string, request: SyncRequest): Promise<SyncOutcome> {
    const tenant = await this.store.readTenant(tenantId);
    if (!tenant) return { ok: false, failure: classifyMicrosoftFailure(new Error('the tenant was removed')) };
    await this.store.recordSyncAttempt(tenantId);
    const observedAt = this.clock.now();
    try {
      const { graph, tokens } = this.connections.get(tenant);
      // A token first: its failure comes from msal as itself, not wrapped by the Graph client.
      await tokens.acquire();
      const round = new RoundInProgress();
      const summary = await followUserChanges(graph, request.full ? null : await this.store.getDeltaLink(tenantId), async (page) => {
        round.apply(page, await this.store.applyUserChanges(tenantId, round.batch(page, observedAt)));
        // Each page is applied on its own turn of the event loop, and after the API requests being
        // answered (within a bound): they come before the next page of a sync.
        if (page.deltaLink === undefined) await this.foregroundRequests.backgroundTurn();
      });
      await this.store.recordSyncSuccess(tenantId, observedAt);
      await this.recordOutsideChanges(tenantId, round.changes);
      await this.status.update(tenantId);
      return { ok: true, changes: round.changes, fullRound: summary.fullRound, users: round.users };
    } catch (error) {
      const failure = error instanceof AppError ? appFailure(error) : classifyMicrosoftFailure(error);
      const previousCode = (await this.store.readTenant(tenantId))?.lastError?.code;
      await this.store.recordSyncFailure(tenantId, { category: failure.category, code: failure.code, message: failure.message });
      // The same failure every poll would flood the system log: record it when it starts or changes.
      if (previousCode !== failure.code || request.taskId) {
        handleError(
          microsoftFailureError(failure, `Sync of ${tenant.displayName} failed`),
          { source: request.source, tenantId, ...(request.taskId ? { taskId: request.taskId } : {}), operation: 'sync users' },
          this.sinks,
        );
      }
      await this.status.update(tenantId);
      return { ok: false, failure };
    }
  }

  /** A user the product locked was found enabled: someone re-enabled it in Microsoft 365. */
  private async recordOutsideChanges(tenantId: string, changes: SyncChanges): Promise<void> {
    for (const { user, before } of changes.locksCleared) {
      const lockedAt = before?.lock?.at ?? user.lastChangedAt;
      const tenant = await this.store.readTenant(tenantId);
      let actor = 'unknown';
      let how = '';
      if (tenant) {
        const attribution = await attributeAccountChange(this.connections.get(tenant).graph, user.id, true, lockedAt - 60_000);
        if (attribution.known) {
          actor = attribution.actor;
          how = ` by ${attribution.actor} at ${new Date(attribution.at).toISOString()}`;
        } else {
          how = ` (${attribution.reason})`;
        }
      }
      await this.store.recordActivity({
        tenantId,
        kind: 'external-change',
        name: 'Re-enabled outside m365-status',
        description: `${user.userPrincipalName} was enabled directly in Microsoft 365${how}; the lock set by ${before?.lock?.by ?? 'm365-status'} was cleared.`,
        actor,
        management: false,
        userId: user.id,
      });
    }
  }
}

/**
 * A round's pages as they are applied: what each page's batch says, and what the round changed so far.
 * Only counts and cleared locks are kept, so a first sync holds no copy of the tenant's users.
 */
class RoundInProgress {
  readonly changes: SyncChanges = { added: 0, changed: 0, removed: 0, locksCleared: [] };
  users = 0;
  /** Users listed by the full round's pages so far: on its last page, every other stored user is gone. */
  #listed = new Set<string>();

  batch(page: UserDeltaPage, observedAt: number): UserChangeBatch {
    if (page.index === 0) this.#restart();
    const last = page.deltaLink !== undefined;
    return {
      observedAt,
      users: page.users,
      removedUserIds: page.removedUserIds,
      ...(last ? { deltaLink: page.deltaLink } : {}),
      ...(page.fullRound ? { fullRound: true } : {}),
      ...(page.fullRound && last ? { earlierUserIds: this.#listed } : {}),
    };
  }

  apply(page: UserDeltaPage, summary: UserChangeSummary): void {
    this.users += page.users.length;
    if (page.fullRound) {
      for (const user of page.users) this.#listed.add(user.id);
      for (const id of page.removedUserIds) this.#listed.delete(id);
    }
    this.changes.added += summary.added.length;
    this.changes.changed += summary.changed.length;
    this.changes.removed += summary.removed.length;
    for (const user of summary.locksCleared) {
      this.changes.locksCleared.push({ user, before: summary.changed.find((change) => change.after.id === user.id)?.before });
    }
  }

  /** A delta round Graph no longer knew restarts in full: only what the full round lists counts. */
  #restart(): void {
    this.users = 0;
    this.#listed = new Set();
  }
}

function appFailure(error: AppError): MicrosoftFailure {
  return {
    category: 'credentials',
    code: error.code,
    message: error.message,
    remedy: 'Rotate the tenant\'s credentials.',
    retryAfterMs: null,
    resync: false,
    resyncUrl: null,
    status: error.status,
  };
}
