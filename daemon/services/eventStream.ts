import type { DaemonEvent } from '../../protocol/daemonApi';
import type { ApiViews } from '../api/apiViews';
import type { Store } from '../store/store';
import type { StoreEvent } from '../store/storeTypes';

type Listener = (event: DaemonEvent) => void;

/**
 * Turns the store's changes into the API's events, once, for every connected client: a change in
 * Microsoft 365 reaches the tree, the status bar and the webview without anyone asking.
 */
export class EventStream {
  private readonly listeners = new Set<Listener>();
  private unsubscribe: (() => void) | null = null;
  // Translating reads the store, which answers asynchronously: one chain keeps events in store order.
  private delivery: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly views: ApiViews,
  ) {}

  start(): void {
    this.unsubscribe = this.store.onDidChange((event) => {
      if (this.listeners.size === 0) return;
      this.delivery = this.delivery.then(async () => {
        try {
          for (const daemonEvent of await this.translate(event)) for (const listener of this.listeners) listener(daemonEvent);
        } catch {
          // Read after the fact, a record can be gone (a tenant removed since): its removal event follows.
        }
      });
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.listeners.clear();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get clientCount(): number {
    return this.listeners.size;
  }

  private async translate(event: StoreEvent): Promise<DaemonEvent[]> {
    switch (event.type) {
      case 'tenant':
        return [{ type: 'tenant', tenant: await this.views.tenant(event.tenant) }];
      case 'tenant-removed':
        return [{ type: 'tenant-removed', tenantId: event.tenantId }];
      case 'users': {
        const users = (await Promise.all(event.userIds.map((id) => this.store.getUser(event.tenantId, id)))).flatMap((user) =>
          user ? [this.views.user(user)] : [],
        );
        const present = new Set(users.map((u) => u.id));
        const tenant = await this.store.getTenant(event.tenantId);
        return [
          { type: 'users', tenantId: event.tenantId, users, removedUserIds: event.userIds.filter((id) => !present.has(id)) },
          // Counts change with users.
          ...(tenant ? [{ type: 'tenant' as const, tenant: await this.views.tenant(tenant) }] : []),
        ];
      }
      case 'task':
        return [{ type: 'task', task: this.views.task(event.task) }];
      case 'activity':
        return [{ type: 'activity', activity: await this.views.activity(event.activity) }];
      case 'log':
        return [{ type: 'log', entry: this.views.logEntry(event.entry) }];
    }
  }
}
