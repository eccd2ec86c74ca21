import type { SimDirectory } from '../directory/simDirectory';
import type { SimClock } from '../simClock';

/** A demo tenant with the credentials an operator would register in the product for it. */
export interface DemoTenant {
  tenantId: string;
  domain: string;
  displayName: string;
  state: string;
  appId: string;
  /** The secret to register: for the "wrong secret" tenant, deliberately one that no longer works. */
  clientSecret: string;
  /** The secret's end date as the app registration shows it. */
  secretExpiresAt: string | null;
}

const dayMs = 24 * 60 * 60 * 1000;

/**
 * The tenants `npm run sim` and the demo start with: one for each state the product must show.
 */
export function createDemoTenants(directory: SimDirectory, clock: SimClock): DemoTenant[] {
  const demos: DemoTenant[] = [];
  const add = (
    state: string,
    domain: string,
    displayName: string,
    users: number,
    seed: number,
    app: Parameters<SimDirectory['createTenant']>[0]['app'],
    registeredSecret?: string,
  ) => {
    const { tenant, app: created, secret } = directory.createTenant({ domain, displayName, users, seed, app });
    if (!created || !secret) throw new Error(`demo tenant ${domain} has no app secret`);
    const secretExpiresAt = created.secrets.at(-1)?.endDateTime ?? null;
    demos.push({
      tenantId: tenant.id,
      domain: tenant.domain,
      displayName,
      state,
      appId: created.appId,
      clientSecret: registeredSecret ?? secret,
      secretExpiresAt,
    });
  };

  add('healthy', 'contoso.onmicrosoft.com', 'Contoso', 120, 11, {});
  add('wrong secret', 'fabrikam.onmicrosoft.com', 'Fabrikam', 60, 12, {}, 'old8Q~this-secret-was-rotated-away-in-entra');
  add('secret expires within 14 days', 'northwind.onmicrosoft.com', 'Northwind Traders', 45, 13, {
    secretExpiresAt: new Date(clock.now() + 9 * dayMs).toISOString(),
  });
  add('missing permission (cannot lock users)', 'tailspin.onmicrosoft.com', 'Tailspin Toys', 30, 14, {
    roles: ['User.Read.All', 'User.RevokeSessions.All'],
  });
  return demos;
}
