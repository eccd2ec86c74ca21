import {
  AuthenticationHandler,
  Client,
  RedirectHandler,
  RedirectHandlerOptions,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
} from '@microsoft/microsoft-graph-client';
import type { Agent } from 'undici';
import { GraphHttpHandler } from './graphHttpHandler';
import type { MicrosoftEndpoints } from './microsoftEndpoints';
import type { TenantTokenSource } from './tenantTokenSource';

export interface GraphRetryPolicy {
  /** Retries of 429, 503 and 504 inside the Graph client (it honours `Retry-After`). */
  maxRetries: number;
  /** Base delay in seconds when Graph gives no `Retry-After`. */
  delaySeconds: number;
}

/**
 * A Graph client for one tenant, with tokens from its token source. The client only sends tokens to
 * `https://` hosts it knows, and matches custom hosts without the port, so a non-Microsoft Graph host
 * (the simulator) is declared by name.
 */
export function createTenantGraphClient(
  tokens: TenantTokenSource,
  endpoints: MicrosoftEndpoints,
  dispatcher: Agent,
  retry: GraphRetryPolicy = { maxRetries: 3, delaySeconds: 3 },
): Client {
  const authentication = new AuthenticationHandler({ getAccessToken: async () => (await tokens.acquire()).accessToken });
  const retryHandler = new RetryHandler(new RetryHandlerOptions(retry.delaySeconds, retry.maxRetries));
  const redirect = new RedirectHandler(new RedirectHandlerOptions());
  const telemetry = new TelemetryHandler();
  const http = new GraphHttpHandler(dispatcher);
  authentication.setNext(retryHandler);
  retryHandler.setNext(redirect);
  redirect.setNext(telemetry);
  telemetry.setNext(http);
  const graphHost = new URL(endpoints.graphHost);
  return Client.initWithMiddleware({
    middleware: authentication,
    baseUrl: `${graphHost.origin}/`,
    defaultVersion: 'v1.0',
    ...(graphHost.hostname === 'graph.microsoft.com' ? {} : { customHosts: new Set([graphHost.hostname]) }),
    // Node's fetch takes undici's dispatcher: our pool, our CA, our timeouts (for requests the last
    // middleware hands to fetch; it sends the rest on the same pool itself).
    fetchOptions: { dispatcher } as RequestInit,
  });
}
