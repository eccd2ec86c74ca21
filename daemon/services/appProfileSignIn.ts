import type { Client } from '@microsoft/microsoft-graph-client';
import type { Agent } from 'undici';
import { credentialRequirements } from '../../protocol/credentialRequirements';
import { missingRoles } from '../microsoft/credentialProbe';
import { classifyMicrosoftFailure, type MicrosoftFailure } from '../microsoft/microsoftFailure';
import type { MicrosoftEndpoints } from '../microsoft/microsoftEndpoints';
import { createTenantGraphClient } from '../microsoft/tenantGraphClient';
import { TenantTokenSource } from '../microsoft/tenantTokenSource';
import type { StoredAppProfile } from '../store/storeTypes';
import type { CredentialVault } from '../vault/credentialVault';
import { vaultKeys } from '../vault/vaultKeys';

export type ConsentProbe =
  | { consent: 'consented'; grantedRoles: string[]; missingRoles: string[] }
  | { consent: 'notConsented' | 'unknown'; failure: MicrosoftFailure };

/**
 * Signing in as an app profile's app outside any registered tenant: in the partner tenant (to read its
 * GDAP customers), and in a customer tenant to learn whether its admin has consented yet.
 */
export class AppProfileSignIn {
  constructor(
    private readonly vault: CredentialVault,
    private readonly endpoints: MicrosoftEndpoints,
    private readonly dispatcher: Agent,
  ) {}

  /** A Graph client in the profile's partner tenant. */
  partnerGraph(profile: StoredAppProfile): Client {
    return createTenantGraphClient(this.tokens(profile, profile.partnerTenant), this.endpoints, this.dispatcher, { maxRetries: 2, delaySeconds: 1 });
  }

  /**
   * One fresh token request in the tenant: the cheapest honest answer to "has this tenant consented?".
   * Microsoft answers AADSTS7000229 (no service principal) or 700016 where nobody consented.
   */
  async probe(profile: StoredAppProfile, tenant: string): Promise<ConsentProbe> {
    try {
      const token = await this.tokens(profile, tenant).acquire({ fresh: true });
      const granted = new Set(token.roles);
      return { consent: 'consented', grantedRoles: [...granted].sort(), missingRoles: missingRoles(credentialRequirements.requiredRoles, granted) };
    } catch (error) {
      const failure = classifyMicrosoftFailure(error);
      return { consent: failure.category === 'consent' ? 'notConsented' : 'unknown', failure };
    }
  }

  private tokens(profile: StoredAppProfile, tenant: string): TenantTokenSource {
    const credential = this.vault.get(vaultKeys.appProfile(profile.id));
    return new TenantTokenSource({ tenant, clientId: profile.appId, credential }, this.endpoints, this.dispatcher);
  }
}
