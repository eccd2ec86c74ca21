import { credentialRequirements } from '../../protocol/credentialRequirements';
import type { ErrorCode } from '../../protocol/errorCodes';
import type { Clock, Timer } from '../clock';
import { isAppError } from '../errors/AppError';
import { handleError, type ErrorSinks } from '../errors/handleError';
import { probeCredentialHealth } from '../microsoft/credentialProbe';
import type { Store } from '../store/store';
import type { CredentialHealth, StoredTenant, SyncFailureCategory } from '../store/storeTypes';
import type { TenantConnection, TenantConnections } from './tenantConnections';
import type { TenantStatusService } from './tenantStatusService';

const dayMs = 24 * 60 * 60 * 1000;
const hourMs = 60 * 60 * 1000;

/**
 * Which tenants this daemon looks after when daemons share a store: the ones whose lease it holds
 * (`Poller.holds`), so that each tenant is checked by one daemon, not by every one.
 */
export interface TenantShare {
  holds(tenantId: string): boolean;
}

/**
 * Credential health per tenant: checked at start (after the first round), with every "Check account
 * status" task, when credentials change, and at least daily. A failed token request counts as a failed connection attempt,
 * so the tenant turns DISCONNECTED at once rather than at the next poll.
 *
 * With a shared store (`share`), the scheduled checks cover only the tenants this daemon holds, and go by
 * each tenant's last check as the shared store records it rather than by this daemon's own day: every hour,
 * a held tenant last checked a day ago or more (by whichever daemon) is checked. A tenant whose lease moves
 * is thus neither checked twice nor left out for long.
 */
export class CredentialHealthService {
  private dailyTimer: Timer | null = null;
  private stopped = true;
  /** Set by `stop`: a check running then ends before its next tenant (a check never started stays allowed). */
  private stopRequested = false;
  /** The check `start` or the daily timer began, while it runs: stopping waits for it. */
  private scheduled: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly connections: TenantConnections,
    private readonly status: TenantStatusService,
    private readonly clock: Clock,
    private readonly sinks: ErrorSinks,
    private readonly share?: TenantShare,
  ) {}

  async check(tenantId: string, taskId?: string): Promise<CredentialHealth> {
    const tenant = await this.store.requireTenant(tenantId);
    const health = await this.probe(tenant, () => this.connections.get(tenant));
    await this.record(tenant, health, taskId);
    return health;
  }

  /**
   * Checks a credential without recording anything: registering checks a tenant's before it is
   * stored, so that the tenant and its health are written together. `connect` failing (no credential,
   * an unreadable certificate) is a failed check, not an error.
   */
  async probe(tenant: Pick<StoredTenant, 'appId'>, connect: () => TenantConnection): Promise<CredentialHealth> {
    let health: CredentialHealth;
    try {
      const { tokens, graph, credential } = connect();
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
    return health;
  }

  /**
   * Records a check's result, and what it means: a failed connection attempt, a status change, an
   * expiry warning. Health the tenant already holds (registering stores it with the tenant) is no new
   * write.
   */
  async record(tenant: StoredTenant, health: CredentialHealth, taskId?: string): Promise<void> {
    const tenantId = tenant.id;
    if (!(await this.store.getTenant(tenantId))) return;
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
  }

  /** The operator's re-check: checks now and answers the tenant as it stands after the check. */
  async recheck(tenantId: string): Promise<StoredTenant> {
    await this.check(tenantId);
    return this.store.requireTenant(tenantId);
  }

  /** Checks every tenant (with a shared store, every tenant this daemon holds). */
  async checkAll(): Promise<void> {
    await this.checkTenants(() => true);
  }

  /** With a shared store: checks the held tenants whose last check, by any daemon, is a day old or more. */
  async checkDue(): Promise<void> {
    const due = this.clock.now() - dayMs;
    await this.checkTenants((tenant) => (tenant.credentialHealth?.checkedAt ?? Number.NEGATIVE_INFINITY) <= due);
  }

  private async checkTenants(wanted: (tenant: StoredTenant) => boolean): Promise<void> {
    const tenants = await this.store.listTenants();
    const checked = new Set<string>();
    for (const tenant of tenants) {
      // Stopping: the store closes once this check ends, so the tenant being checked is the last one.
      if (this.stopRequested) return;
      if (this.share && !this.share.holds(tenant.id)) continue;
      if (!wanted(tenant)) continue;
      // Removed while earlier tenants were checked: nothing to check, nothing to report.
      if (!(await this.store.getTenant(tenant.id))) continue;
      checked.add(tenant.id);
      try {
        await this.check(tenant.id);
      } catch (error) {
        handleError(error, { source: 'credential-health', tenantId: tenant.id, operation: 'check credential health' }, this.sinks);
      }
    }
    await this.warnOfExpiringAppProfiles(tenants, checked);
  }

  /**
   * One warning per app profile whose credential expires soon, however many tenants use it. With a shared
   * store, only from the daemon that has just checked the profile's first tenant (by id), so the team sees
   * it once a day, not once per daemon; a profile no tenant uses is then left to its card on the
   * credential-health page.
   */
  private async warnOfExpiringAppProfiles(tenants: readonly StoredTenant[], checked: ReadonlySet<string>): Promise<void> {
    const now = this.clock.now();
    for (const profile of await this.store.listAppProfiles()) {
      const expiresAt = profile.credentialExpiresAt;
      if (expiresAt === null || expiresAt - now >= credentialRequirements.expiryWarningMs) continue;
      if (this.share) {
        const first = tenants.filter((tenant) => tenant.appProfileId === profile.id).map((tenant) => tenant.id).sort()[0];
        if (first === undefined || !checked.has(first)) continue;
      }
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
   * Checks once `after` has settled (the poller's first round: each check asks a fresh token, which would
   * compete with the round's own requests): every tenant, then daily; with a shared store, the held ones,
   * then those due hourly.
   */
  start(after: Promise<unknown> = Promise.resolve()): void {
    this.stopped = false;
    this.stopRequested = false;
    const first = (): void => this.runScheduled(() => this.checkAll());
    void after.then(first, first);
  }

  /**
   * Schedules no more checks and ends the one running after the tenant it is checking, waiting up to
   * `timeoutMs` for that tenant's check (its requests to Microsoft may hang): the daemon closes the
   * store next, and a check still writing then ends on the closed store.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    this.stopRequested = true;
    this.dailyTimer?.cancel();
    this.dailyTimer = null;
    const running = this.scheduled;
    if (!running) return;
    let bound: Timer | undefined;
    await Promise.race([running, new Promise<void>((resolve) => (bound = this.clock.setTimeout(resolve, timeoutMs)))]);
    bound?.cancel();
  }

  private runScheduled(check: () => Promise<void>): void {
    if (this.stopped) return;
    const run = check()
      // Each tenant's failure is handled where it is checked; this is the list or the profiles failing.
      .catch((error: unknown) => void handleError(error, { source: 'credential-health', operation: 'check credential health' }, this.sinks))
      .finally(() => {
        if (this.scheduled === run) this.scheduled = null;
        this.scheduleDaily();
      });
    this.scheduled = run;
  }

  private scheduleDaily(): void {
    if (this.stopped) return;
    this.dailyTimer = this.clock.setTimeout(() => this.runScheduled(() => (this.share ? this.checkDue() : this.checkAll())), this.share ? hourMs : dayMs);
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
