import { credentialRequirements } from '../../protocol/credentialRequirements';
import type { ErrorCode } from '../../protocol/errorCodes';
import type { Clock, Timer } from '../clock';
import { isAppError } from '../errors/AppError';
import { handleError, type ErrorSinks } from '../errors/handleError';
import { probeCredentialHealth } from '../microsoft/credentialProbe';
import type { Store } from '../store/store';
import type { CredentialHealth, StoredTenant, SyncFailureCategory } from '../store/storeTypes';
import type { TenantConnections } from './tenantConnections';
import type { TenantStatusService } from './tenantStatusService';

const dayMs = 24 * 60 * 60 * 1000;

/**
 * Credential health per tenant: checked at start (after the first round), with every "Check account
 * status" task, when credentials change, and at least daily. A failed token request counts as a failed connection attempt,
 * so the tenant turns DISCONNECTED at once rather than at the next poll.
 */
export class CredentialHealthService {
  private dailyTimer: Timer | null = null;
  private stopped = true;

  constructor(
    private readonly store: Store,
    private readonly connections: TenantConnections,
    private readonly status: TenantStatusService,
    private readonly clock: Clock,
    private readonly sinks: ErrorSinks,
  ) {}

  async check(tenantId: string, taskId?: string): Promise<CredentialHealth> {
    const tenant = await this.store.requireTenant(tenantId);
    let health: CredentialHealth;
    try {
      const { tokens, graph, credential } = this.connections.get(tenant);
      health = await probeCredentialHealth(
        tokens,
        graph,
        { appId: tenant.appId, credential, declaredExpiresAt: credential.kind === 'secret' ? credential.expiresAt ?? null : null },
        this.clock.now(),
      );
    } catch (error) {
      health = {
        checkedAt: this.clock.now(),
        canGetToken: false,
        failure: { code: isAppError(error) ? error.code : 'CREDENTIALS_MISSING', message: (error as Error).message, remedy: 'Rotate the credentials of this tenant.' },
        grantedRoles: [],
        missingRoles: [],
        missingOptionalRoles: [],
        credentialExpiresAt: null,
      };
    }
    if (!(await this.store.getTenant(tenantId))) return health;
    await this.store.recordCredentialHealth(tenantId, health);
    const category = failureCategory(health);
    if (category) {
      await this.store.recordSyncFailure(tenantId, { category, code: health.failure?.code ?? 'MISSING_PERMISSIONS', message: describe(health) });
    }
    // A tenant on an app profile shares the profile's one countdown (see checkAll), not one warning each.
    if (tenant.appProfileId === null && health.credentialExpiresAt !== null && health.credentialExpiresAt - this.clock.now() < credentialRequirements.expiryWarningMs) {
      const days = Math.max(0, Math.floor((health.credentialExpiresAt - this.clock.now()) / dayMs));
      await this.store.appendSystemLog({
        level: 'warn',
        message: `The ${tenant.credentialKind} of ${tenant.displayName} ${health.credentialExpiresAt <= this.clock.now() ? 'has expired' : `expires in ${days} day${days === 1 ? '' : 's'}`}.`,
        code: 'CREDENTIAL_EXPIRING' satisfies ErrorCode,
        source: 'credential-health',
        tenantId,
        ...(taskId ? { taskId } : {}),
      });
    }
    await this.status.update(tenantId);
    return health;
  }

  /** The operator's re-check: checks now and answers the tenant as it stands after the check. */
  async recheck(tenantId: string): Promise<StoredTenant> {
    await this.check(tenantId);
    return this.store.requireTenant(tenantId);
  }

  async checkAll(): Promise<void> {
    for (const tenant of await this.store.listTenants()) {
      // Removed while earlier tenants were checked: nothing to check, nothing to report.
      if (!(await this.store.getTenant(tenant.id))) continue;
      try {
        await this.check(tenant.id);
      } catch (error) {
        handleError(error, { source: 'credential-health', tenantId: tenant.id, operation: 'check credential health' }, this.sinks);
      }
    }
    await this.warnOfExpiringAppProfiles();
  }

  /** One warning per app profile whose credential expires soon, however many tenants use it. */
  private async warnOfExpiringAppProfiles(): Promise<void> {
    const now = this.clock.now();
    for (const profile of await this.store.listAppProfiles()) {
      const expiresAt = profile.credentialExpiresAt;
      if (expiresAt === null || expiresAt - now >= credentialRequirements.expiryWarningMs) continue;
      const days = Math.max(0, Math.floor((expiresAt - now) / dayMs));
      await this.store.appendSystemLog({
        level: 'warn',
        message: `The ${profile.credentialKind} of app profile "${profile.name}" ${expiresAt <= now ? 'has expired' : `expires in ${days} day${days === 1 ? '' : 's'}`}: rotating it rotates it for every tenant using it.`,
        code: 'CREDENTIAL_EXPIRING' satisfies ErrorCode,
        source: 'credential-health',
      });
    }
  }

  /**
   * Checks every tenant once `after` has settled (the poller's first round: each check asks a fresh
   * token, which would compete with the round's own requests), then daily.
   */
  start(after: Promise<unknown> = Promise.resolve()): void {
    this.stopped = false;
    void after.finally(() => {
      if (!this.stopped) void this.checkAll().finally(() => this.scheduleDaily());
    });
  }

  stop(): void {
    this.stopped = true;
    this.dailyTimer?.cancel();
    this.dailyTimer = null;
  }

  private scheduleDaily(): void {
    if (this.stopped) return;
    this.dailyTimer = this.clock.setTimeout(() => {
      void this.checkAll().finally(() => this.scheduleDaily());
    }, dayMs);
  }
}

/** What a health result means for the tenant's connection: no token, no consent, or a needed role missing. */
function failureCategory(health: CredentialHealth): SyncFailureCategory | null {
  if (!health.canGetToken) {
    const code = health.failure?.code ?? '';
    return /700016|7000229|7000112/.test(code) ? 'consent' : /network|timeout|ECONN|UND_ERR/i.test(code) ? null : 'credentials';
  }
  if (health.failure?.code === 'NO_ROLES') return 'consent';
  if (health.missingRoles.includes('User.Read.All')) return 'permissions';
  return null;
}

function describe(health: CredentialHealth): string {
  if (health.failure) return health.failure.message;
  return `The app lacks ${health.missingRoles.join(', ')}.`;
}
