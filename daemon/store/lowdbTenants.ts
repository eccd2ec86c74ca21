import { AppError } from '../errors/AppError';
import { clonePlain } from './clonePlain';
import type { LowdbContext } from './lowdbContext';
import type { LowdbTasks } from './lowdbTasks';
import type { LowdbUsers } from './lowdbUsers';
import { newTenantRecord, tenantAddedActivity } from './storeRecords';
import type { CredentialHealth, CredentialKind, NewTenant, StoredActivity, StoredTenant, StoreEvent, SyncFailure, TenantStatus } from './storeTypes';

/** Tenants, kept in the main file; their users are `LowdbUsers`'s. */
export class LowdbTenants {
  readonly #context: LowdbContext;
  readonly #tasks: LowdbTasks;
  readonly #users: LowdbUsers;

  constructor(context: LowdbContext, tasks: LowdbTasks, users: LowdbUsers) {
    this.#context = context;
    this.#tasks = tasks;
    this.#users = users;
  }

  async addTenant(input: NewTenant): Promise<StoredTenant> {
    const { main, clock } = this.#context;
    this.#context.assertOpen();
    const duplicate = main.data.tenants.find((t) => t.tenantIdOrDomain.toLowerCase() === input.tenantIdOrDomain.toLowerCase());
    if (duplicate) {
      throw AppError.conflict('TENANT_EXISTS', `${input.tenantIdOrDomain} is already registered as "${duplicate.displayName}".`, {
        tenantId: duplicate.id,
      });
    }
    const at = clock.now();
    const tenant = newTenantRecord(input, at);
    // Users first, in the same synchronous step: a tenant is never listed without its users.
    this.#users.createTenant(tenant.id);
    main.addTenant(tenant);
    const activity = this.#tasks.pushActivity(tenantAddedActivity(tenant, input.by));
    // The file itself catches up at the next checkpoint.
    this.#context.saveMainLater();
    await main.saveTenantAdded(tenant, activity);
    this.#context.events.emit({ type: 'tenant', tenant: clonePlain(tenant) }, { type: 'activity', activity: structuredClone(activity) });
    return clonePlain(tenant);
  }

  async getTenant(tenantId: string): Promise<StoredTenant | undefined> {
    const tenant = this.#context.main.findTenant(tenantId);
    return tenant ? clonePlain(tenant) : undefined;
  }

  async readTenant(tenantId: string): Promise<Readonly<StoredTenant> | undefined> {
    return this.#context.main.findTenant(tenantId);
  }

  async requireTenant(tenantId: string): Promise<StoredTenant> {
    return clonePlain(this.#context.main.requireTenant(tenantId));
  }

  async listTenants(): Promise<StoredTenant[]> {
    return clonePlain(this.#context.main.data.tenants);
  }

  async readTenants(): Promise<ReadonlyArray<Readonly<StoredTenant>>> {
    return [...this.#context.main.data.tenants];
  }

  async removeTenant(tenantId: string, by: string): Promise<StoredActivity> {
    const { main, clock } = this.#context;
    this.#context.assertOpen();
    const tenant = main.requireTenant(tenantId);
    main.removeTenant(tenantId);
    const deleteUsers = this.#users.removeTenant(tenantId);
    const failed = this.#tasks.failPendingTasksOf(tenantId, clock.now());
    const activity = this.#tasks.pushActivity({
      tenantId,
      kind: 'tenant-removed',
      name: 'Removed tenant',
      description: `Removed ${tenant.tenantIdOrDomain} and its cached users.`,
      actor: by,
      management: false,
    });
    await this.#context.saveMainChange({ removedTenantIds: [tenantId], tasks: failed, activities: [activity] });
    await deleteUsers();
    this.#context.events.emit(
      { type: 'tenant-removed', tenantId },
      ...failed.map((task): StoreEvent => ({ type: 'task', task: structuredClone(task) })),
      { type: 'activity', activity: structuredClone(activity) },
    );
    return structuredClone(activity);
  }

  async recordCredentialsRotated(tenantId: string, credentialKind: CredentialKind, by: string): Promise<StoredActivity> {
    this.#context.assertOpen();
    const tenant = this.#context.main.requireTenant(tenantId);
    const previous = tenant.credentialKind;
    tenant.credentialKind = credentialKind;
    // Health describes the old credential; the next check fills it in for the new one.
    tenant.credentialHealth = null;
    const activity = this.#tasks.pushActivity({
      tenantId,
      kind: 'credentials-rotated',
      name: 'Rotated credentials',
      description:
        previous === credentialKind
          ? `Replaced the ${credentialKind} used to sign in to ${tenant.tenantIdOrDomain}.`
          : `Replaced the ${previous} used to sign in to ${tenant.tenantIdOrDomain} with a ${credentialKind}.`,
      actor: by,
      management: true,
    });
    await this.#context.saveMainChange({ tenants: [tenant], activities: [activity] });
    this.#context.events.emit({ type: 'tenant', tenant: clonePlain(tenant) }, { type: 'activity', activity: structuredClone(activity) });
    return structuredClone(activity);
  }

  async recordSyncAttempt(tenantId: string): Promise<void> {
    this.#context.assertOpen();
    this.#context.main.requireTenant(tenantId).lastAttemptAt = this.#context.clock.now();
    this.#context.saveSyncStateLater();
  }

  async recordSyncSuccess(tenantId: string, at: number = this.#context.clock.now()): Promise<void> {
    this.#context.assertOpen();
    const tenant = this.#context.main.requireTenant(tenantId);
    const hadError = tenant.lastError !== null;
    tenant.lastSyncAt = Math.max(tenant.lastSyncAt ?? 0, at);
    tenant.lastAttemptAt = Math.max(tenant.lastAttemptAt ?? 0, at);
    tenant.lastError = null;
    if (hadError) await this.#context.saveMainChange({ tenants: [tenant] });
    else this.#context.saveSyncStateLater();
    this.#context.events.emit({ type: 'tenant', tenant: clonePlain(tenant) });
  }

  async recordSyncFailure(tenantId: string, failure: Omit<SyncFailure, 'at'>): Promise<void> {
    this.#context.assertOpen();
    const tenant = this.#context.main.requireTenant(tenantId);
    const at = this.#context.clock.now();
    const previous = tenant.lastError;
    const same =
      previous !== null &&
      previous.category === failure.category &&
      previous.code === failure.code &&
      previous.message === failure.message;
    tenant.lastAttemptAt = at;
    tenant.lastError = { ...failure, at };
    if (same) this.#context.saveSyncStateLater();
    else await this.#context.saveMainChange({ tenants: [tenant] });
    this.#context.events.emit({ type: 'tenant', tenant: clonePlain(tenant) });
  }

  async recordTenantStatus(tenantId: string, status: TenantStatus, reason: string): Promise<StoredActivity | undefined> {
    this.#context.assertOpen();
    const tenant = this.#context.main.requireTenant(tenantId);
    if (tenant.status === status) return undefined;
    const previous = tenant.status;
    tenant.status = status;
    tenant.statusChangedAt = this.#context.clock.now();
    const activity = this.#tasks.pushActivity({
      tenantId,
      kind: 'status-change',
      name: 'Status changed',
      description: `${previous} → ${status}: ${reason}`,
      actor: 'm365-status',
      management: false,
    });
    await this.#context.saveMainChange({ tenants: [tenant], activities: [activity] });
    this.#context.events.emit({ type: 'tenant', tenant: clonePlain(tenant) }, { type: 'activity', activity: structuredClone(activity) });
    return structuredClone(activity);
  }

  async recordCredentialHealth(tenantId: string, health: CredentialHealth): Promise<void> {
    this.#context.assertOpen();
    const tenant = this.#context.main.requireTenant(tenantId);
    const previous = tenant.credentialHealth;
    const same = previous !== null && JSON.stringify({ ...previous, checkedAt: 0 }) === JSON.stringify({ ...health, checkedAt: 0 });
    tenant.credentialHealth = structuredClone(health);
    if (same) this.#context.saveMainLater();
    else await this.#context.saveMainChange({ tenants: [tenant] });
    this.#context.events.emit({ type: 'tenant', tenant: clonePlain(tenant) });
  }
}
