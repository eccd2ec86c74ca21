import { GraphError } from '@microsoft/microsoft-graph-client';
import type { CustomerListView, CustomerView } from '../../protocol/daemonApi';
import { AppError } from '../errors/AppError';
import { microsoftFailureError } from '../errors/microsoftFailureError';
import { classifyMicrosoftFailure } from '../microsoft/microsoftFailure';
import type { Store } from '../store/store';
import type { AppProfileSignIn } from './appProfileSignIn';
import { forEachBounded } from './forEachBounded';
import type { RegisteredTenantLookup } from './registeredTenantLookup';

/** The largest page Graph serves of delegatedAdminCustomers. */
const pageSize = 300;
/** Token requests at once while learning which customers consented. */
const probeConcurrency = 8;
const gdapPermission = 'DelegatedAdminRelationship.Read.All';

interface CustomersPage {
  value?: Array<{ tenantId?: string; displayName?: string }>;
  '@odata.nextLink'?: string;
}

/**
 * The partner's GDAP customers, read with the profile's app in the partner tenant, each with whether it
 * is already a tenant here and whether it has consented to the app.
 */
export class CustomerDiscovery {
  constructor(
    private readonly store: Store,
    private readonly signIn: AppProfileSignIn,
    private readonly registered: RegisteredTenantLookup,
  ) {}

  async list(profileId: string): Promise<CustomerListView> {
    const profile = await this.store.requireAppProfile(profileId);
    const graph = this.signIn.partnerGraph(profile);
    const found: Array<{ tenantId: string; displayName: string }> = [];
    try {
      let page = (await graph.api('/tenantRelationships/delegatedAdminCustomers').select('tenantId,displayName').top(pageSize).get()) as CustomersPage;
      for (;;) {
        for (const item of page.value ?? []) {
          if (item.tenantId) found.push({ tenantId: item.tenantId, displayName: item.displayName ?? item.tenantId });
        }
        const next = page['@odata.nextLink'];
        if (!next) break;
        page = (await graph.api(next).get()) as CustomersPage;
      }
    } catch (error) {
      if (error instanceof GraphError && error.statusCode === 403) {
        throw new AppError({
          status: 502,
          code: 'MISSING_PERMISSIONS',
          message:
            `The app of profile "${profile.name}" may not list the partner's customers in ${profile.partnerTenant}: it needs the application ` +
            `permission ${gdapPermission}, granted with admin consent in the partner tenant.`,
          details: { permission: gdapPermission, partnerTenant: profile.partnerTenant },
        });
      }
      throw microsoftFailureError(classifyMicrosoftFailure(error), `Listing the customers of ${profile.partnerTenant}`);
    }
    const tenants = await this.store.listTenants();
    const customers = await forEachBounded(found, probeConcurrency, async (customer): Promise<CustomerView> => {
      const added = await this.registered.find(customer.tenantId, tenants);
      const probe = await this.signIn.probe(profile, customer.tenantId);
      return {
        tenantId: customer.tenantId,
        displayName: customer.displayName,
        addedAs: added?.id ?? null,
        added: added !== undefined,
        consent: probe.consent,
        missingRoles: probe.consent === 'consented' ? probe.missingRoles : [],
        error: probe.consent === 'unknown' ? `${probe.failure.message} (${probe.failure.code})` : null,
      };
    });
    return { appProfileId: profile.id, customers };
  }
}
