import type {
  AddAppProfileRequest,
  AddTenantRequest,
  AppProfileView,
  ConsentLinkView,
  ConsentView,
  CredentialInput,
  CustomerListView,
  CustomerView,
  LockOutcome,
  RefreshOutcome,
  RequestConsentRequest,
  TenantBatchView,
  TenantView,
} from '../../protocol/daemonApi';
import type { DaemonClient } from '../client/daemonClient';
import type { Timers } from '../common/timers';
import { isOnPremisesRefusal } from '../model/lockConfirmation';
import type { StatusModel } from '../model/statusModel';
import type { SystemLogFilter } from '../model/systemLogDocument';
import { systemLogDocument, systemLogTitle } from '../model/systemLogDocument';
import type { TenantBatchChunk } from '../model/tenantBatchFile';
import { tenantBatchChunks, tenantBatchFile } from '../model/tenantBatchFile';
import type { TenantBatchReport } from '../model/tenantBatchReport';
import { emptyTenantBatchCounts, renumberTenantBatch } from '../model/tenantBatchReport';
import { tenantKey, userKey } from '../model/tenantTreeModel';
import type { UserSearchOptions, UserSearchResult } from '../model/userSearch';
import { userSearch } from '../model/userSearch';
import { withBusy } from './withBusy';

/** What the daemon was asked for a lock or unlock, beyond the user. */
export interface LockRequestChoice {
  revokeSessions?: boolean;
  overrideOnPremises?: boolean;
}

/**
 * A lock or unlock either happened, or the daemon refused it because the user's sign-in state is
 * mastered on-premises and no override was given: the operator decides whether to ask again with one.
 */
export type UserActionResult = { kind: 'done'; outcome: LockOutcome } | { kind: 'needs-on-premises-override'; message: string };

export interface TenantRefreshResult {
  tenant: TenantView;
  outcome?: RefreshOutcome;
  /** Why the refresh of this tenant failed; the others go on. */
  error?: string;
}

export interface RefreshProgress {
  /** Checked before each tenant: the operator cancelled the rest. */
  isCancelled(): boolean;
  onTenant(tenant: TenantView): void;
}

export interface TenantBatchProgress {
  /** Checked before each request: the operator cancelled the rest. */
  isCancelled(): boolean;
  /** Before each request: how many entries were sent so far, of how many. */
  onChunk(sent: number, total: number): void;
}

export interface ConsentWait {
  /** Checked every `intervalMs`: the operator stopped waiting (the link stays valid until it expires). */
  isCancelled(): boolean;
  timers: Pick<Timers, 'now' | 'setTimeout'>;
  /** How often the wait looks again; it asks the daemon this often only while the event stream is down. */
  intervalMs?: number;
  /** While the event stream is live, how often the daemon is asked all the same, in case an event was missed. */
  recheckMs?: number;
}

export interface StatusActionsOptions {
  model: StatusModel;
  client: DaemonClient;
}

// Every credential check asks Microsoft for a token: a few at a time.
const RECHECK_BATCH = 4;

/**
 * Everything the operator can ask the daemon to do, in one place between the views and commands and the
 * daemon client: each action marks its row busy, makes the call, turns the daemon's refusals into
 * answers the caller can act on, and puts the daemon's answer into the model at once (the event that
 * follows changes nothing). Prompts and messages stay with the commands; nothing here imports `vscode`.
 */
export class StatusActions {
  readonly #model: StatusModel;
  readonly #client: DaemonClient;

  constructor(options: StatusActionsOptions) {
    this.#model = options.model;
    this.#client = options.client;
  }

  /** Lock = disable sign-in, revoking sessions too when asked. */
  lockUser(tenantId: string, userId: string, choice: LockRequestChoice = {}): Promise<UserActionResult> {
    const label = choice.revokeSessions ? 'Locking and revoking sessions…' : 'Locking…';
    return this.#userAction(tenantId, userId, label, choice.overrideOnPremises === true, () =>
      this.#client.lockUser(tenantId, userId, {
        ...(choice.revokeSessions ? { revokeSessions: true } : {}),
        ...(choice.overrideOnPremises ? { overrideOnPremises: true } : {}),
      }),
    );
  }

  /** Unlock = enable sign-in. */
  unlockUser(tenantId: string, userId: string, choice: Pick<LockRequestChoice, 'overrideOnPremises'> = {}): Promise<UserActionResult> {
    return this.#userAction(tenantId, userId, 'Unlocking…', choice.overrideOnPremises === true, () =>
      this.#client.unlockUser(tenantId, userId, choice.overrideOnPremises ? { overrideOnPremises: true } : {}),
    );
  }

  /** Searches the users of these tenants through the daemon, for a picker. */
  searchUsers(tenants: readonly TenantView[], text: string, options: UserSearchOptions = {}): Promise<UserSearchResult> {
    return userSearch(this.#client, tenants, text, options);
  }

  /**
   * Never refused here: the daemon decides what a repeat does (queue the tasks again, or record that an
   * earlier one still counts), and its answer says which.
   */
  async refreshTenant(tenantId: string): Promise<RefreshOutcome> {
    const outcome = await withBusy(this.#model, tenantKey(tenantId), 'Refreshing…', () => this.#client.refreshTenant(tenantId));
    this.#model.applyEvent({ type: 'activity', activity: outcome.activity });
    return outcome;
  }

  /** Refreshes these tenants one after the other; one failing does not stop the rest. */
  async refreshTenants(tenants: readonly TenantView[], progress?: RefreshProgress): Promise<TenantRefreshResult[]> {
    const results: TenantRefreshResult[] = [];
    for (const tenant of tenants) {
      if (progress?.isCancelled()) break;
      progress?.onTenant(tenant);
      try {
        results.push({ tenant, outcome: await this.refreshTenant(tenant.id) });
      } catch (error) {
        results.push({ tenant, error: errorText(error) });
      }
    }
    return results;
  }

  async recheckCredentialHealth(tenantId: string): Promise<TenantView> {
    this.#requireTenant(tenantId);
    const updated = await withBusy(this.#model, tenantKey(tenantId), 'Checking credentials…', () => this.#client.recheckCredentialHealth(tenantId));
    this.#model.applyTenant(updated);
    return updated;
  }

  /** Re-checks every tenant; fails after trying them all, naming those that could not be checked. */
  async recheckAllCredentialHealth(): Promise<void> {
    const tenants = this.#model.tenants();
    const failures: string[] = [];
    for (let index = 0; index < tenants.length; index += RECHECK_BATCH) {
      await Promise.all(
        tenants
          .slice(index, index + RECHECK_BATCH)
          .map((tenant) => this.recheckCredentialHealth(tenant.id).catch((error: unknown) => failures.push(`${tenant.displayName}: ${errorText(error)}`))),
      );
    }
    if (failures.length > 0) throw new Error(`Could not re-check ${failures.join('; ')}`);
  }

  /** Replaces a tenant's secret or certificate; the daemon checks the new one before answering. */
  async rotateCredentials(tenantId: string, credential: CredentialInput): Promise<TenantView> {
    const updated = await withBusy(this.#model, tenantKey(tenantId), 'Rotating credentials…', () => this.#client.rotateCredentials(tenantId, { credential }));
    this.#model.applyTenant(updated);
    return updated;
  }

  async addTenant(request: AddTenantRequest): Promise<TenantView> {
    const added = await this.#client.addTenant(request);
    this.#model.applyTenant(added);
    return added;
  }

  async removeTenant(tenantId: string): Promise<void> {
    await withBusy(this.#model, tenantKey(tenantId), 'Removing…', () => this.#client.removeTenant(tenantId));
    this.#model.removeTenant(tenantId);
  }

  appProfiles(): Promise<AppProfileView[]> {
    return this.#client.listAppProfiles();
  }

  /** Registers a multi-tenant app and its credential once, for many tenants to sign in with. */
  async addAppProfile(request: AddAppProfileRequest): Promise<AppProfileView> {
    const added = await this.#client.addAppProfile(request);
    this.#model.appProfilesChanged();
    return added;
  }

  /**
   * One new secret or certificate for every tenant on the profile: each tenant's row is busy while the
   * daemon checks them all, and their new credential health is in the model when this answers.
   */
  async rotateAppProfileCredentials(profileId: string, credential: CredentialInput): Promise<AppProfileView> {
    const current = await this.#client.getAppProfile(profileId);
    const keys = current.tenantIds.map(tenantKey);
    for (const key of keys) this.#model.setBusy(key, 'Rotating credentials…');
    try {
      const rotated = await this.#client.rotateAppProfileCredentials(profileId, { credential });
      const onProfile = new Set(rotated.tenantIds);
      for (const tenant of await this.#client.listTenants()) if (onProfile.has(tenant.id)) this.#model.applyTenant(tenant);
      this.#model.appProfilesChanged();
      return rotated;
    } finally {
      for (const key of keys) this.#model.clearBusy(key);
    }
  }

  /**
   * Adds the tenants of a CSV or JSON file, in requests the daemon takes, so progress advances and a
   * cancel stops between requests. A request the daemon refuses whole (a CSV header it cannot read, the
   * daemon gone) ends the run, and the report says what was done before it.
   */
  async addTenantsFromFile(fileName: string, text: string, progress?: TenantBatchProgress): Promise<TenantBatchReport> {
    const file = tenantBatchFile(fileName, text);
    return this.#sendTenantBatch(file.chunks, file.entryCount, progress);
  }

  /** The partner's GDAP customers as the profile's app sees them: added, consented, or not consented. */
  discoverCustomers(profileId: string): Promise<CustomerListView> {
    return this.#client.listCustomers(profileId);
  }

  /** Adds the chosen customers on the profile in one step; those without consent come back with their links. */
  addCustomers(profileId: string, customers: readonly CustomerView[], progress?: TenantBatchProgress): Promise<TenantBatchReport> {
    const entries = customers.map((customer) => ({ tenant: customer.tenantId, displayName: customer.displayName, profile: profileId }));
    return this.#sendTenantBatch(tenantBatchChunks(entries), entries.length, progress);
  }

  /** The admin-consent link for one customer tenant; its admin's answer reaches the daemon, not us. */
  requestConsent(profileId: string, request: RequestConsentRequest): Promise<ConsentLinkView> {
    return this.#client.requestConsent(profileId, request);
  }

  /**
   * Waits for the admin's answer, the link's expiry or the operator to stop waiting (then undefined).
   * The answer comes as the event stream's `consent` event; the daemon is asked once at the start (the
   * answer may have come already), at the expiry, and otherwise only while the stream is down or, as a
   * safety net, every `recheckMs`. Once granted, the registered tenant is in the model when this answers.
   */
  async waitForConsent(profileId: string, state: string, wait: ConsentWait): Promise<ConsentView | undefined> {
    const intervalMs = wait.intervalMs ?? 1_000;
    const recheckMs = wait.recheckMs ?? 30_000;
    let answered: ConsentView | undefined;
    let wake: (() => void) | undefined;
    const subscription = this.#model.onDidReceiveConsent((consent) => {
      if (consent.state !== state || consent.appProfileId !== profileId || consent.status === 'pending') return;
      answered = consent;
      wake?.();
    });
    try {
      let askedAt = Number.NEGATIVE_INFINITY;
      let expiresAt = Number.POSITIVE_INFINITY;
      for (;;) {
        if (wait.isCancelled()) return undefined;
        const now = wait.timers.now();
        // The stream may drop mid-wait: then the daemon is asked again at the short interval.
        const askEvery = this.#model.connection.kind === 'connected' ? recheckMs : intervalMs;
        let consent = answered;
        if (!consent && (now - askedAt >= askEvery || now >= expiresAt)) {
          consent = await this.#client.getConsent(profileId, state);
          askedAt = wait.timers.now();
          expiresAt = consent.expiresAt;
        }
        if (consent && (consent.status !== 'pending' || consent.expiresAt <= wait.timers.now())) {
          if (consent.status === 'granted' && consent.tenantId) this.#model.applyTenant(await this.#client.getTenant(consent.tenantId));
          return consent;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          wait.timers.setTimeout(resolve, intervalMs);
        });
        wake = undefined;
      }
    } finally {
      subscription.dispose();
    }
  }

  async #sendTenantBatch(chunks: readonly TenantBatchChunk[], total: number, progress?: TenantBatchProgress): Promise<TenantBatchReport> {
    const results: TenantBatchReport['results'] = [];
    const counts = emptyTenantBatchCounts();
    let sent = 0;
    const report = (extra: { cancelled: boolean; failure?: string }): TenantBatchReport => ({ results, counts, notSent: total - sent, ...extra });
    for (const chunk of chunks) {
      if (progress?.isCancelled()) return report({ cancelled: true });
      progress?.onChunk(sent, total);
      let answer: TenantBatchView;
      try {
        answer = await this.#client.addTenantBatch(chunk.body);
      } catch (error) {
        // Nothing answered yet: the daemon's own words are the clearest error.
        if (sent === 0) throw error;
        return report({ cancelled: false, failure: errorText(error) });
      }
      sent += chunk.fileLines.length - ('csv' in chunk.body ? 1 : 0);
      results.push(...renumberTenantBatch(answer, chunk.fileLines));
      for (const key of Object.keys(counts) as Array<keyof typeof counts>) counts[key] += answer.counts[key];
      for (const result of answer.results) if (result.outcome === 'added') this.#model.applyTenant(result.tenantView);
    }
    return report({ cancelled: false });
  }

  /** The system log as a plain-text document; a failed read becomes a document that says why. */
  async systemLog(filter: SystemLogFilter): Promise<string> {
    try {
      const entries = await this.#client.listLogs({ ...filter, limit: 1000 });
      return systemLogDocument(entries, filter, this.#model.tenants());
    } catch (error) {
      return `# ${systemLogTitle(filter)}\n\nCould not read the system log: ${errorText(error)}\n`;
    }
  }

  async #userAction(tenantId: string, userId: string, label: string, overridden: boolean, call: () => Promise<LockOutcome>): Promise<UserActionResult> {
    let outcome: LockOutcome;
    try {
      outcome = await withBusy(this.#model, userKey(tenantId, userId), label, call);
    } catch (error) {
      if (!isOnPremisesRefusal(error) || overridden) throw error;
      return { kind: 'needs-on-premises-override', message: error.message };
    }
    this.#model.applyUser(tenantId, outcome.user);
    return { kind: 'done', outcome };
  }

  #requireTenant(tenantId: string): void {
    if (!this.#model.tenant(tenantId)) throw new Error('That tenant is no longer registered.');
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
