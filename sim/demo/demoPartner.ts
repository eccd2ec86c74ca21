import { leastPrivilegeRoles, type SimDirectory } from '../directory/simDirectory';

/** A GDAP customer of the demo partner, and whether its admin has consented to the partner's app yet. */
export interface DemoCustomer {
  tenantId: string;
  domain: string;
  displayName: string;
  consented: boolean;
}

/** The demo partner (MSP) tenant: one multi-tenant app to onboard its GDAP customers through. */
export interface DemoPartner {
  tenantId: string;
  domain: string;
  displayName: string;
  appId: string;
  clientSecret: string;
  /** Registered on the app; any port on it is accepted, as for Microsoft's loopback redirect URIs. */
  redirectUri: string;
  customers: DemoCustomer[];
}

const customers: Array<{ domain: string; displayName: string; users: number; consented: boolean }> = [
  { domain: 'alpineskihouse.onmicrosoft.com', displayName: 'Alpine Ski House', users: 40, consented: true },
  { domain: 'cohowinery.onmicrosoft.com', displayName: 'Coho Winery', users: 25, consented: true },
  { domain: 'litware.onmicrosoft.com', displayName: 'Litware', users: 30, consented: true },
  { domain: 'proseware.onmicrosoft.com', displayName: 'Proseware', users: 20, consented: false },
  { domain: 'wideworldimporters.onmicrosoft.com', displayName: 'Wide World Importers', users: 35, consented: false },
];

/**
 * A partner tenant whose multi-tenant app reads its GDAP customers at home, with five customers: three
 * consented to the app, two not yet (their token requests answer AADSTS7000229 until they consent).
 */
export function createDemoPartner(directory: SimDirectory): DemoPartner {
  const redirectUri = 'http://localhost/consent';
  const { tenant, app, secret } = directory.createTenant({
    domain: 'adventureworks-msp.onmicrosoft.com',
    displayName: 'Adventure Works MSP',
    users: 8,
    seed: 20,
    app: {
      displayName: 'm365-status (Adventure Works MSP)',
      multiTenant: true,
      redirectUris: [redirectUri],
      roles: [...leastPrivilegeRoles, 'DelegatedAdminRelationship.Read.All'],
    },
  });
  if (!app || !secret) throw new Error('the demo partner has no app secret');
  const demoCustomers = customers.map((spec, i) => {
    const { tenant: customer } = directory.createTenant({ domain: spec.domain, displayName: spec.displayName, users: spec.users, seed: 21 + i });
    tenant.delegatedAdminRelationships.set(customer.id, {
      tenantId: customer.id,
      displayName: customer.displayName,
      active: true,
      etag: `W/"${Buffer.from(`'${customer.id}'`).toString('base64')}"`,
    });
    // The customers' own consent grants what the app asks for except the partner-only GDAP permission.
    if (spec.consented) directory.grantConsent(customer, app, [...leastPrivilegeRoles]);
    return { tenantId: customer.id, domain: customer.domain, displayName: customer.displayName, consented: spec.consented };
  });
  return { tenantId: tenant.id, domain: tenant.domain, displayName: tenant.displayName, appId: app.appId, clientSecret: secret, redirectUri, customers: demoCustomers };
}
