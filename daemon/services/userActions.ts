import { AppError } from '../errors/AppError';
import { handleError, type ErrorSinks } from '../errors/handleError';
import { classifyMicrosoftFailure } from '../microsoft/microsoftFailure';
import { readUserSignInState, revokeSignInSessions, setAccountEnabled } from '../microsoft/userAccount';
import type { Store } from '../store/store';
import type { StoredActivity, StoredUser } from '../store/storeTypes';
import { KeyedMutex } from '../tasks/keyedMutex';
import type { TenantConnections } from './tenantConnections';
import type { TenantStatusService } from './tenantStatusService';

export type UserActionResult =
  | { outcome: 'locked' | 'unlocked'; user: StoredUser; activity: StoredActivity }
  | { outcome: 'unchanged'; user: StoredUser; message: string };

export interface LockRequest {
  by: string;
  revokeSessions: boolean;
  overrideOnPremises: boolean;
}

/** Graph's refusal, as the operator needs to hear it. */
function refused(error: unknown, what: string): AppError {
  const failure = classifyMicrosoftFailure(error);
  const status = failure.status === 403 ? 403 : failure.status === 404 ? 404 : failure.category === 'throttled' ? 429 : 502;
  const code = failure.status === 403 ? 'GRAPH_REFUSED' : failure.status === 404 ? 'USER_NOT_FOUND' : failure.category === 'credentials' || failure.category === 'consent' ? 'TENANT_DISCONNECTED' : 'GRAPH_UNAVAILABLE';
  let message = `Microsoft Graph refused to ${what}: ${failure.message}`;
  if (failure.status === 403) {
    message = `Microsoft Graph refused to ${what} (${failure.code}). The app may lack User.EnableDisableAccount.All, or the user holds a privileged admin role that only a higher admin role may change.`;
  }
  return new AppError({ status, code, message, details: { graphCode: failure.code, remedy: failure.remedy }, cause: error });
}

/**
 * Lock (disable sign-in, optionally revoking sessions) and unlock. The decision is made on the user's
 * state as Graph has it now, not on the cache; the store changes only after Graph confirmed, and the
 * answer goes out only after the store's write is on disk.
 */
export class UserActions {
  private readonly perUser = new KeyedMutex();

  constructor(
    private readonly store: Store,
    private readonly connections: TenantConnections,
    private readonly status: TenantStatusService,
    private readonly sinks: ErrorSinks,
  ) {}

  lock(tenantId: string, userId: string, request: LockRequest): Promise<UserActionResult> {
    return this.recorded(tenantId, `lock ${userId}`, () =>
      this.perUser.run(`${tenantId}/${userId}`, () => this.change(tenantId, userId, false, request)),
    );
  }

  unlock(tenantId: string, userId: string, request: Omit<LockRequest, 'revokeSessions'>): Promise<UserActionResult> {
    return this.recorded(tenantId, `unlock ${userId}`, () =>
      this.perUser.run(`${tenantId}/${userId}`, () => this.change(tenantId, userId, true, { ...request, revokeSessions: false })),
    );
  }

  /**
   * A failed lock or unlock is recorded as an action (system log, keyed by tenant) before it goes back
   * to the caller; `handleError` remembers it, so the API's own handling does not report it twice.
   */
  private async recorded(tenantId: string, operation: string, action: () => Promise<UserActionResult>): Promise<UserActionResult> {
    try {
      return await action();
    } catch (error) {
      handleError(error, { source: 'action', tenantId, operation }, this.sinks);
      throw error;
    }
  }

  private async change(tenantId: string, userId: string, enable: boolean, request: LockRequest): Promise<UserActionResult> {
    const tenant = await this.store.requireTenant(tenantId);
    const cached = await this.store.getUser(tenantId, userId);
    if (!cached) throw AppError.notFound('USER_NOT_FOUND', `No user ${userId} in ${tenant.displayName}.`);
    const verb = enable ? 'unlock' : 'lock';
    if (cached.onPremisesSyncEnabled && !request.overrideOnPremises) {
      throw AppError.conflict(
        'ON_PREMISES_USER',
        `${cached.userPrincipalName} is synced from on-premises Active Directory: its sign-in state is mastered there, and the next directory sync may undo a change made in Microsoft 365. ${enable ? 'Enable' : 'Disable'} it in Active Directory, or ${verb} it here with the on-premises override.`,
        { userPrincipalName: cached.userPrincipalName },
      );
    }
    const { graph, tokens } = this.connections.get(tenant);
    let live;
    try {
      await tokens.acquire();
      live = await readUserSignInState(graph, userId);
    } catch (error) {
      throw refused(error, `read ${cached.userPrincipalName}`);
    }
    if (live.accountEnabled === enable) {
      // Already so in Microsoft 365; the cache learns it with the next sync.
      return {
        outcome: 'unchanged',
        user: cached,
        message: `${live.userPrincipalName} is already ${enable ? 'enabled' : 'disabled'} in Microsoft 365; nothing was changed.`,
      };
    }
    try {
      await setAccountEnabled(graph, userId, enable);
    } catch (error) {
      throw refused(error, `${enable ? 'enable' : 'disable'} ${live.userPrincipalName}`);
    }
    let revoked = false;
    if (!enable && request.revokeSessions) {
      try {
        await revokeSignInSessions(graph, userId);
        revoked = true;
      } catch (error) {
        // The lock holds; say that the sessions could not be revoked rather than pretend.
        const { user, activity } = await recordMade(live.userPrincipalName, 'lock', () => this.store.recordUserLocked(tenantId, userId, { by: request.by, revokedSessions: false }));
        await this.status.update(tenantId);
        throw new AppError({
          status: 502,
          code: 'REVOKE_FAILED',
          message: `${live.userPrincipalName} is locked, but revoking its sign-in sessions failed: ${classifyMicrosoftFailure(error).message}`,
          details: { activityId: activity.id, userId: user.id },
          cause: error,
        });
      }
    }
    const result = await recordMade(live.userPrincipalName, verb, () =>
      enable ? this.store.recordUserUnlocked(tenantId, userId, request.by) : this.store.recordUserLocked(tenantId, userId, { by: request.by, revokedSessions: revoked }),
    );
    await this.status.update(tenantId);
    return { outcome: enable ? 'unlocked' : 'locked', ...result };
  }
}

/**
 * Records a lock or unlock Microsoft 365 has already made. Should the store fail to take it (a full disk,
 * the database away), the answer says what is true, which is what a security engineer acts on: the account
 * is disabled (or enabled) there; only its record is missing, and the cache shows the account as it is from
 * the next sync.
 */
async function recordMade<T>(userPrincipalName: string, verb: 'lock' | 'unlock', record: () => Promise<T>): Promise<T> {
  try {
    return await record();
  } catch (error) {
    const state = verb === 'lock' ? 'disabled' : 'enabled';
    const why = error instanceof AppError ? `: ${error.message}` : ' (the daemon log says why)';
    throw new AppError({
      status: 500,
      code: 'ACTION_NOT_RECORDED',
      message: `${userPrincipalName} is ${state} in Microsoft 365, but m365-status could not record the ${verb}${why}. The account shows as ${state} from the next sync.`,
      cause: error,
    });
  }
}
