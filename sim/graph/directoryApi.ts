import { json, type SimRequest, type SimResponse } from '../http/simExchange';
import { requireAnyRole, type GraphCaller } from './graphCaller';
import { notFound } from './graphFailure';

/** `GET /organization`: the tenant itself. */
export function getOrganization(caller: GraphCaller, request: SimRequest): SimResponse {
  requireAnyRole(caller, ['Organization.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'User.Read.All']);
  const tenant = caller.tenant;
  return json(200, {
    '@odata.context': `${request.origin}/v1.0/$metadata#organization`,
    value: [
      {
        id: tenant.id,
        displayName: tenant.displayName,
        createdDateTime: tenant.createdDateTime,
        tenantType: 'AAD',
        verifiedDomains: [
          { capabilities: 'Email, OfficeCommunicationsOnlineService', isDefault: true, isInitial: true, name: tenant.domain, type: 'Managed' },
        ],
      },
    ],
  });
}

/**
 * `GET /applications(appId='…')`: the app registration with its credentials' end dates, readable only in
 * the app's home tenant and with `Application.Read.All`. Secret values are never returned, only hints.
 */
export function getApplicationByAppId(caller: GraphCaller, request: SimRequest, appId: string): SimResponse {
  requireAnyRole(caller, ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All']);
  const app = caller.tenant.findApp(appId);
  if (!app) throw notFound(`appId='${appId}'`);
  return json(200, {
    '@odata.context': `${request.origin}/v1.0/$metadata#applications/$entity`,
    id: app.objectId,
    appId: app.appId,
    displayName: app.displayName,
    signInAudience: app.multiTenant ? 'AzureADMultipleOrgs' : 'AzureADMyOrg',
    passwordCredentials: app.secrets.map((s) => ({
      customKeyIdentifier: null,
      displayName: s.displayName,
      endDateTime: s.endDateTime,
      hint: s.hint,
      keyId: s.keyId,
      secretText: null,
      startDateTime: s.startDateTime,
    })),
    keyCredentials: app.certificates.map((c) => ({
      customKeyIdentifier: c.thumbprintHex,
      displayName: c.displayName,
      endDateTime: c.endDateTime,
      key: null,
      keyId: c.keyId,
      startDateTime: c.startDateTime,
      type: 'AsymmetricX509Cert',
      usage: 'Verify',
    })),
  });
}
