import type { Request } from 'express';
import { callerOf } from './apiCaller';
import type { ApiViews } from '../api/apiViews';
import type { ActivityTimeline } from '../services/activityTimeline';
import type { AppProfileService } from '../services/appProfileService';
import type { ConsentService } from '../services/consentService';
import type { CustomerDiscovery } from '../services/customerDiscovery';
import type { CredentialHealthService } from '../services/credentialHealthService';
import type { EventStream } from '../services/eventStream';
import type { SystemLogQuery } from '../services/systemLogQuery';
import type { TenantQueries } from '../services/tenantQueries';
import type { TenantBatch } from '../services/tenantBatch';
import type { TenantRegistry } from '../services/tenantRegistry';
import type { UserActions } from '../services/userActions';
import type { RefreshService } from '../tasks/refreshService';

/**
 * What the routes may use: services and views, never the store, lowdb or Microsoft directly. A route
 * parses the request, calls one service and shapes its answer.
 */
export interface DaemonServices {
  version: string;
  views: ApiViews;
  tenants: TenantQueries;
  registry: TenantRegistry;
  appProfiles: AppProfileService;
  consents: ConsentService;
  customers: CustomerDiscovery;
  batch: TenantBatch;
  actions: UserActions;
  refresh: RefreshService;
  health: CredentialHealthService;
  timeline: ActivityTimeline;
  systemLog: SystemLogQuery;
  events: EventStream;
  defaultOperator: string;
}

/**
 * Who is acting, for activities: the authenticated engineer in shared mode; in local mode the name the
 * extension sends, else the daemon's own user (see the authentication strategies).
 */
export function operatorOf(request: Request, _services: DaemonServices): string {
  return callerOf(request).name;
}
