import type { AddTenantRequest, CredentialInput, LockOutcome, RefreshOutcome, TenantView } from '../../protocol/daemonApi';
import type { DaemonClient } from '../client/daemonClient';
import { isOnPremisesRefusal } from '../model/lockConfirmation';
import type { StatusModel } from '../model/statusModel';
import type { SystemLogFilter } from '../model/systemLogDocument';
import { systemLogDocument, systemLogTitle } from '../model/systemLogDocument';
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
