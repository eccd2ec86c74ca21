import { randomUUID } from 'node:crypto';
import { json, type SimResponse } from '../http/simExchange';

/**
 * The identity platform's documented failures. The text follows Microsoft's messages so the product's
 * explanations can be checked against what operators will really see.
 */
export const aadsts = {
  tenantNotFound: (tenant: string) => ({
    status: 400,
    error: 'invalid_tenant',
    code: 90002,
    message: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  }),
  malformedTenant: (tenant: string) => ({
    status: 400,
    error: 'invalid_request',
    code: 900023,
    message: `Specified tenant identifier '${tenant}' is neither a valid DNS name, nor a valid external domain.`,
  }),
  unsupportedGrant: (grant: string) => ({
    status: 400,
    error: 'unsupported_grant_type',
    code: 70003,
    message: `The app requested an unsupported grant type '${grant}'.`,
  }),
  invalidScope: (scope: string) => ({
    status: 400,
    error: 'invalid_scope',
    code: 1002012,
    message: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
  }),
  appNotFound: (appId: string, tenant: string) => ({
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    message: `Application with identifier '${appId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  }),
  appDisabled: (appId: string, name: string) => ({
    status: 400,
    error: 'unauthorized_client',
    code: 7000112,
    message: `Application '${appId}'(${name}) is disabled.`,
  }),
  noServicePrincipal: (appId: string, tenant: string) => ({
    status: 401,
    error: 'invalid_client',
    code: 7000229,
    message: `The client application ${appId} is missing service principal in the tenant ${tenant}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119`,
  }),
  missingCredential: () => ({
    status: 401,
    error: 'invalid_client',
    code: 7000218,
    message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  }),
  wrongSecret: (appId: string) => ({
    status: 401,
    error: 'invalid_client',
    code: 7000215,
    message: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`,
  }),
  expiredSecret: (appId: string, name: string) => ({
    status: 401,
    error: 'invalid_client',
    code: 7000222,
    message: `The provided client secret keys for app '${appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds. (app: ${name})`,
  }),
  unknownCertificate: (appId: string) => ({
    status: 401,
    error: 'invalid_client',
    code: 700027,
    message: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${appId}'.]`,
  }),
  badAssertionSignature: () => ({
    status: 401,
    error: 'invalid_client',
    code: 700027,
    message: 'Client assertion failed signature validation.',
  }),
  invalidAssertion: (reason: string) => ({
    status: 401,
    error: 'invalid_client',
    code: 700024,
    message: `Client assertion is not within its valid time range or is invalid: ${reason}`,
  }),
  expiredCertificate: (appId: string) => ({
    status: 401,
    error: 'invalid_client',
    code: 700027,
    message: `The certificate used to sign the client assertion for app '${appId}' has expired.`,
  }),
  temporarilyUnavailable: () => ({
    status: 503,
    error: 'temporarily_unavailable',
    code: 90033,
    message: 'A transient error has occurred. Please try again.',
  }),
} satisfies Record<string, (...args: never[]) => AadstsFailure>;

export interface AadstsFailure {
  status: number;
  error: string;
  code: number;
  message: string;
}

function microsoftTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** The error body the token endpoint sends, with trace and correlation ids as Microsoft's does. */
export function aadstsResponse(failure: AadstsFailure, now: Date, correlationId?: string): SimResponse {
  const traceId = randomUUID();
  const correlation = correlationId ?? randomUUID();
  const timestamp = microsoftTimestamp(now);
  return json(failure.status, {
    error: failure.error,
    error_description: `AADSTS${failure.code}: ${failure.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlation}\r\nTimestamp: ${timestamp}`,
    error_codes: [failure.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlation,
    error_uri: `https://login.microsoftonline.com/error?code=${failure.code}`,
  });
}
