import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import type { Agent } from 'undici';
import { identityRequest, type IdentityAnswer } from './identityRequest';
import { networkCode } from './microsoftFailure';

/**
 * msal-node's network module over our own connection pool, so the token endpoint is reached with the
 * same CA trust and timeouts as Graph (msal's default client cannot be given a CA).
 */
export class MsalNetworkClient implements INetworkModule {
  constructor(private readonly dispatcher: Agent) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'GET', options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'POST', options);
  }

  private async send<T>(url: string, method: 'GET' | 'POST', options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    let answer: IdentityAnswer;
    try {
      answer = await identityRequest(this.dispatcher, url, {
        method,
        headers: options?.headers ?? {},
        ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
        ...(timeout ? { timeoutMs: timeout } : {}),
      });
    } catch (error) {
      // msal replaces anything but its own errors with a bare "network_error": keep the cause.
      throw new IdentityNetworkError(networkCode(error) ?? (error as Error).name, (error as Error).message);
    }
    let body: T;
    try {
      body = JSON.parse(answer.text) as T;
    } catch {
      // msal reads `error` from the body; a non-JSON answer (a proxy's HTML page) becomes one it can read.
      body = { error: 'invalid_response', error_description: `HTTP ${answer.status} with a body that is not JSON` } as T;
    }
    return { headers: answer.headers, body, status: answer.status };
  }
}

/** The identity platform could not be reached; an AuthError so that msal passes it on unchanged. */
export class IdentityNetworkError extends AuthError {
  constructor(
    readonly networkCode: string,
    detail: string,
  ) {
    super(/TIMEOUT|ABORT/i.test(networkCode) ? 'network_timeout' : 'network_unreachable', `${networkCode}: ${detail}`);
  }
}
