import { type Agent, fetch } from 'undici';
import type { Client } from '@microsoft/microsoft-graph-client';
import { createHttpDispatcher } from '../../daemon/microsoft/httpDispatcher';
import type { MicrosoftEndpoints } from '../../daemon/microsoft/microsoftEndpoints';
import { createTenantGraphClient, type GraphRetryPolicy } from '../../daemon/microsoft/tenantGraphClient';
import { TenantTokenSource, type TenantCredential } from '../../daemon/microsoft/tenantTokenSource';
import { SimServer, type SimServerOptions } from '../../sim/simServer';

export interface CreatedTenant {
  id: string;
  domain: string;
  users: number;
  app: { appId: string; secret: string | null } | null;
}

/**
 * A simulator on a free loopback port, and the real Microsoft libraries pointed at it exactly as the
 * daemon points them: through the endpoints and the CA, nothing switched off.
 */
export class SimHarness {
  readonly endpoints: MicrosoftEndpoints;
  readonly dispatcher: Agent;

  private constructor(readonly sim: SimServer) {
    this.endpoints = { authorityHost: sim.url, graphHost: sim.url, caPem: sim.caPem, requestTimeoutMs: 10_000 };
    this.dispatcher = createHttpDispatcher(this.endpoints);
  }

  static async start(options: Omit<SimServerOptions, 'port'> = {}): Promise<SimHarness> {
    return new SimHarness(await SimServer.start({ ...options, port: 0 }));
  }

  async stop(): Promise<void> {
    await this.dispatcher.close();
    await this.sim.stop();
  }

  /** Calls the control API; answers the status and the parsed body. */
  async control<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.sim.url}/_sim${path}`, {
      method,
      dispatcher: this.dispatcher,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async createTenant(spec: Record<string, unknown> = {}): Promise<CreatedTenant & { app: { appId: string; secret: string } }> {
    const { status, body } = await this.control<CreatedTenant>('POST', '/tenants', { app: {}, ...spec });
    if (status !== 201 || !body.app) throw new Error(`creating a tenant answered ${status}: ${JSON.stringify(body)}`);
    return body as CreatedTenant & { app: { appId: string; secret: string } };
  }

  tokens(tenant: string, clientId: string, credential: TenantCredential): TenantTokenSource {
    return new TenantTokenSource({ tenant, clientId, credential }, this.endpoints, this.dispatcher);
  }

  graph(tokens: TenantTokenSource, retry: GraphRetryPolicy = { maxRetries: 0, delaySeconds: 1 }): Client {
    return createTenantGraphClient(tokens, this.endpoints, this.dispatcher, retry);
  }

  /** Token source and Graph client for a tenant made with a secret. */
  clientFor(tenant: CreatedTenant & { app: { appId: string; secret: string } }, retry?: GraphRetryPolicy): Client {
    return this.graph(this.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret }), retry);
  }
}
