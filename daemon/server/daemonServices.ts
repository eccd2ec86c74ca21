import type { Request } from 'express';
import type { ApiViews } from '../api/apiViews';
import type { CredentialHealthService } from '../services/credentialHealthService';
import type { EventStream } from '../services/eventStream';
import type { TenantRegistry } from '../services/tenantRegistry';
import type { TenantStatusService } from '../services/tenantStatusService';
import type { UserActions } from '../services/userActions';
import type { Store } from '../store/store';
import type { RefreshService } from '../tasks/refreshService';

/** What the routes may use: services and views, never lowdb or Microsoft directly. */
export interface DaemonServices {
  version: string;
  store: Store;
  views: ApiViews;
  registry: TenantRegistry;
  actions: UserActions;
  refresh: RefreshService;
  health: CredentialHealthService;
  status: TenantStatusService;
  events: EventStream;
  defaultOperator: string;
}

/** Who is acting, for activities: the name the extension sends, else the daemon's own user. */
export function operatorOf(request: Request, services: DaemonServices): string {
  const given = request.headers['x-m365-operator'];
  const name = typeof given === 'string' ? given.replace(/[^\p{L}\p{N} ._@-]/gu, '').trim().slice(0, 64) : '';
  return name || services.defaultOperator;
}
