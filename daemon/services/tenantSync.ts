import type { Clock } from '../clock';
import { AppError } from '../errors/AppError';
import { handleError, type ErrorSinks } from '../errors/handleError';
import { microsoftFailureError } from '../errors/microsoftFailureError';
import { attributeAccountChange } from '../microsoft/auditAttribution';
import { classifyMicrosoftFailure, type MicrosoftFailure } from '../microsoft/microsoftFailure';
import { readUserChanges } from '../microsoft/userDelta';
import type { Store } from '../store/store';
import type { UserChangeSummary } from '../store/storeTypes';
import { KeyedMutex } from '../tasks/keyedMutex';
import type { TenantConnections } from './tenantConnections';
import type { TenantStatusService } from './tenantStatusService';

export type SyncOutcome =
  | { ok: true; summary: UserChangeSummary; fullRound: boolean; users: number }
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
  ) {}

  sync(tenantId: string, request: SyncRequest): Promise<SyncOutcome> {
    return this.perTenant.run(tenantId, () => this.run(tenantId, request));
  }

  private async run(tenantId: string, request: SyncRequest): Promise<SyncOutcome> {
    const tenant = await this.store.getTenant(tenantId);
    if (!tenant) return { ok: false, failure: classifyMicrosoftFailure(new Error('the tenant was removed')) };
    await this.store.recordSyncAttempt(tenantId);
    const observedAt = this.clock.now();
    try {
      const { graph, tokens } = this.connections.get(tenant);
      // A token first: its failure comes from msal as itself, not wrapped by the Graph client.
      await tokens.acquire();
      const round = await readUserChanges(graph, request.full ? null : await this.store.getDeltaLink(tenantId));
      const summary = await this.store.applyUserChanges(tenantId, {
        observedAt,
        users: round.users,
        removedUserIds: round.removedUserIds,
        deltaLink: round.deltaLink,
        fullRound: round.fullRound,
      });
      await this.store.recordSyncSuccess(tenantId, observedAt);
      await this.recordOutsideChanges(tenantId, summary);
      await this.status.update(tenantId);
      return { ok: true, summary, fullRound: round.fullRound, users: round.users.length };
    } catch (error) {
      const failure = error instanceof AppError ? appFailure(error) : classifyMicrosoftFailure(error);
      const previous = (await this.store.getTenant(tenantId))?.lastError;
      await this.store.recordSyncFailure(tenantId, { category: failure.category, code: failure.code, message: failure.message });
      // The same failure every poll would flood the system log: record it when it starts or changes.
      if (previous?.code !== failure.code || request.taskId) {
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
  private async recordOutsideChanges(tenantId: string, summary: UserChangeSummary): Promise<void> {
    for (const user of summary.locksCleared) {
      const before = summary.changed.find((change) => change.after.id === user.id)?.before;
      const lockedAt = before?.lock?.at ?? user.lastChangedAt;
      const tenant = await this.store.getTenant(tenantId);
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
