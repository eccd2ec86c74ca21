import type { TenantView } from '../../protocol/daemonApi';
import { DisposableBase } from '../common/disposableBase';
import { Emitter } from '../common/emitter';
import type { TimerHandle, Timers } from '../common/timers';
import { realTimers } from '../common/timers';

export interface DisconnectAlert {
  tenants: TenantView[];
  message: string;
}

/**
 * Turns "tenant X turned DISCONNECTED" into notifications: one per tenant until it connects again, and
 * tenants that fail together (an expired multi-tenant app secret, a revoked consent) in one notification
 * instead of a stack of them.
 */
export class DisconnectAlerts extends DisposableBase {
  readonly #onDidAlert = this.register(new Emitter<DisconnectAlert>());
  readonly onDidAlert = this.#onDidAlert.event;
  readonly #alerted = new Set<string>();
  readonly #waiting = new Map<string, TenantView>();
  #timer: TimerHandle | undefined;

  constructor(
    private readonly timers: Timers = realTimers,
    private readonly gatherMs = 1500,
  ) {
    super();
    this.register({ dispose: () => this.#timer !== undefined && this.timers.clearTimeout(this.#timer) });
  }

  disconnected(tenant: TenantView): void {
    if (this.#alerted.has(tenant.id)) return;
    this.#alerted.add(tenant.id);
    this.#waiting.set(tenant.id, tenant);
    this.#timer ??= this.timers.setTimeout(() => this.#flush(), this.gatherMs);
  }

  /** Called with every tenant update: one that connects again may alert again when it next fails. */
  seen(tenant: TenantView): void {
    if (tenant.status !== 'DISCONNECTED') {
      this.#alerted.delete(tenant.id);
      this.#waiting.delete(tenant.id);
    }
  }

  #flush(): void {
    this.#timer = undefined;
    const tenants = [...this.#waiting.values()];
    this.#waiting.clear();
    if (tenants.length === 0) return;
    const first = tenants[0] as TenantView;
    const message =
      tenants.length === 1
        ? `${first.displayName} is DISCONNECTED: ${first.statusReason}`
        : `${tenants.length} tenants are DISCONNECTED (${tenants
            .slice(0, 3)
            .map((tenant) => tenant.displayName)
            .join(', ')}${tenants.length > 3 ? ', …' : ''}): the daemon cannot sign in to them.`;
    this.#onDidAlert.fire({ tenants, message });
  }
}
