import type { IncomingMessage } from 'node:http';
import type {
  AddAppProfileRequest,
  AddTenantRequest,
  AppProfileView,
  ConsentLinkView,
  ConsentView,
  CustomerListView,
  DaemonEndpointFile,
  HealthView,
  LockOutcome,
  LockUserRequest,
  RefreshOutcome,
  RequestConsentRequest,
  RotateCredentialsRequest,
  SessionView,
  SystemLogEntryView,
  TaskListEntry,
  TenantBatchView,
  TenantView,
  UnlockUserRequest,
  UserListQuery,
  UserPage,
} from '../../protocol/daemonApi';
import { apiVersion } from '../../protocol/daemonApi';
import { DaemonApiError } from './daemonApiError';
import type { DaemonLocation } from './daemonLocator';
import { connectionFailureReason, DaemonTransport } from './daemonTransport';
import { DaemonUnreachableError } from './daemonUnreachableError';

export interface TaskListOptions {
  automated?: boolean;
  tenantId?: string;
  limit?: number;
}

export interface LogListOptions {
  taskId?: string;
  tenantId?: string;
  level?: 'info' | 'warn' | 'error';
  limit?: number;
}

/** What a call needs to reach the daemon; a bare `{ url, token }` is a local daemon. */
export type DaemonClientEndpoint = Pick<DaemonEndpointFile, 'url' | 'token'> & Partial<Pick<DaemonLocation, 'mode' | 'caPem'>>;

export interface DaemonClientOptions {
  /** The daemon as last located; read on every call because a restart changes port and token. */
  endpoint: () => DaemonClientEndpoint | undefined;
  /** Reads answer within this; actions wait on Microsoft Graph and get `actionTimeoutMs`. */
  timeoutMs?: number;
  actionTimeoutMs?: number;
  /**
   * Who is acting, as a local daemon's activities record it (`x-m365-operator`); the daemon's own user
   * when absent. Never sent to a shared deployment, which records the engineer its token belongs to.
   */
  operator?: string;
}

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * The daemon's HTTP API, typed with the shared protocol, over HTTP to a local daemon or HTTPS to a shared
 * one. Every route but `/v1/health` carries the bearer token (from `daemon.json`, or the engineer's own);
 * the token is never logged, never put in an error, and never leaves this object.
 */
export class DaemonClient {
  readonly #endpoint: DaemonClientOptions['endpoint'];
  readonly #timeoutMs: number;
  readonly #actionTimeoutMs: number;
  readonly #operator: string | undefined;
  // Keep-alive: a tree expansion or a search across tenants makes bursts of small requests.
  readonly #transport = new DaemonTransport({ maxSockets: 8 });

  constructor(options: DaemonClientOptions) {
    this.#endpoint = options.endpoint;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#actionTimeoutMs = options.actionTimeoutMs ?? 120_000;
    this.#operator = options.operator;
  }

  dispose(): void {
    this.#transport.dispose();
  }

  health(): Promise<HealthView> {
    return this.#call<HealthView>('GET', '/health', { auth: false });
  }

  /** Which deployment this is and who the token belongs to. */
  session(): Promise<SessionView> {
    return this.#call<SessionView>('GET', '/session');
  }

  async listTenants(): Promise<TenantView[]> {
    return unwrapList<TenantView>(await this.#call<unknown>('GET', '/tenants'), 'tenants');
  }

  async getTenant(tenantId: string): Promise<TenantView> {
    return unwrapTenant(await this.#call<unknown>('GET', `/tenants/${encodeURIComponent(tenantId)}`));
  }

  async addTenant(body: AddTenantRequest): Promise<TenantView> {
    return unwrapTenant(await this.#call<unknown>('POST', '/tenants', { body, action: true }));
  }

  async removeTenant(tenantId: string): Promise<void> {
    await this.#call<unknown>('DELETE', `/tenants/${encodeURIComponent(tenantId)}`, { action: true });
  }

  async rotateCredentials(tenantId: string, body: RotateCredentialsRequest): Promise<TenantView> {
    return unwrapTenant(await this.#call<unknown>('PUT', `/tenants/${encodeURIComponent(tenantId)}/credentials`, { body, action: true }));
  }

  async recheckCredentialHealth(tenantId: string): Promise<TenantView> {
    return unwrapTenant(await this.#call<unknown>('POST', `/tenants/${encodeURIComponent(tenantId)}/credential-health`, { body: {}, action: true }));
  }

  listUsers(tenantId: string, query: UserListQuery = {}): Promise<UserPage> {
    return this.#call<UserPage>('GET', `/tenants/${encodeURIComponent(tenantId)}/users${queryString(query)}`);
  }

  lockUser(tenantId: string, userId: string, body: LockUserRequest = {}): Promise<LockOutcome> {
    return this.#call<LockOutcome>('POST', `/tenants/${encodeURIComponent(tenantId)}/users/${encodeURIComponent(userId)}/lock`, { body, action: true });
  }

  unlockUser(tenantId: string, userId: string, body: UnlockUserRequest = {}): Promise<LockOutcome> {
    return this.#call<LockOutcome>('POST', `/tenants/${encodeURIComponent(tenantId)}/users/${encodeURIComponent(userId)}/unlock`, { body, action: true });
  }

  refreshTenant(tenantId: string): Promise<RefreshOutcome> {
    return this.#call<RefreshOutcome>('POST', `/tenants/${encodeURIComponent(tenantId)}/refresh`, { body: {}, action: true });
  }

  async listTasks(options: TaskListOptions = {}): Promise<TaskListEntry[]> {
    const query = {
      ...(options.automated ? { automated: 'true' } : {}),
      ...(options.tenantId ? { tenantId: options.tenantId } : {}),
      ...(options.limit ? { limit: options.limit } : {}),
    };
    return unwrapList<TaskListEntry>(await this.#call<unknown>('GET', `/tasks${queryString(query)}`), 'entries');
  }

  async listLogs(options: LogListOptions = {}): Promise<SystemLogEntryView[]> {
    return unwrapList<SystemLogEntryView>(await this.#call<unknown>('GET', `/logs${queryString({ ...options })}`), 'entries');
  }

  async listAppProfiles(): Promise<AppProfileView[]> {
    return unwrapList<AppProfileView>(await this.#call<unknown>('GET', '/app-profiles'), 'appProfiles');
  }

  getAppProfile(profileId: string): Promise<AppProfileView> {
    return this.#call<AppProfileView>('GET', `/app-profiles/${encodeURIComponent(profileId)}`);
  }

  addAppProfile(body: AddAppProfileRequest): Promise<AppProfileView> {
    return this.#call<AppProfileView>('POST', '/app-profiles', { body, action: true });
  }

  async removeAppProfile(profileId: string): Promise<void> {
    await this.#call<unknown>('DELETE', `/app-profiles/${encodeURIComponent(profileId)}`, { action: true });
  }

  /** One new secret or certificate for every tenant on the profile; the daemon checks each before answering. */
  rotateAppProfileCredentials(profileId: string, body: RotateCredentialsRequest): Promise<AppProfileView> {
    return this.#call<AppProfileView>('POST', `/app-profiles/${encodeURIComponent(profileId)}/credentials`, { body, action: true });
  }

  requestConsent(profileId: string, body: RequestConsentRequest): Promise<ConsentLinkView> {
    return this.#call<ConsentLinkView>('POST', `/app-profiles/${encodeURIComponent(profileId)}/consents`, { body, action: true });
  }

  getConsent(profileId: string, state: string): Promise<ConsentView> {
    return this.#call<ConsentView>('GET', `/app-profiles/${encodeURIComponent(profileId)}/consents/${encodeURIComponent(state)}`);
  }

  /** The partner's GDAP customers; the daemon asks Microsoft for each one's consent, so this is an action's wait. */
  listCustomers(profileId: string): Promise<CustomerListView> {
    return this.#call<CustomerListView>('GET', `/app-profiles/${encodeURIComponent(profileId)}/customers`, { action: true });
  }

  /** Bulk add: a JSON list of entries (checked one by one by the daemon) or a CSV text with its header line. */
  addTenantBatch(batch: { tenants: readonly unknown[] } | { csv: string }): Promise<TenantBatchView> {
    return 'csv' in batch
      ? this.#call<TenantBatchView>('POST', '/tenants:batch', { text: { body: batch.csv, contentType: 'text/csv' }, action: true })
      : this.#call<TenantBatchView>('POST', '/tenants:batch', { body: { tenants: batch.tenants }, action: true });
  }

  #call<T>(method: string, path: string, options: { body?: unknown; text?: { body: string; contentType: string }; auth?: boolean; action?: boolean } = {}): Promise<T> {
    const endpoint = this.#endpoint();
    if (!endpoint) return Promise.reject(new DaemonUnreachableError('The m365-status daemon is not connected (no daemon.json in its data directory, or not signed in to the shared deployment).'));
    const url = new URL(`/${apiVersion}${path}`, endpoint.url);
    const payload = options.text
      ? Buffer.from(options.text.body, 'utf8')
      : options.body === undefined
        ? undefined
        : Buffer.from(JSON.stringify(options.body), 'utf8');
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.auth !== false) headers.authorization = `Bearer ${endpoint.token}`;
    if (this.#operator && endpoint.mode !== 'shared') headers['x-m365-operator'] = this.#operator;
    if (payload) {
      headers['content-type'] = options.text?.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const timeoutMs = options.action ? this.#actionTimeoutMs : this.#timeoutMs;
    const attempt = (retryOnStaleSocket: boolean): Promise<T> => new Promise<T>((resolve, reject) => {
      const outgoing = this.#transport.request(url, { method, headers, timeout: timeoutMs, caPem: endpoint.caPem }, (response) => {
        readBody(response)
          .then((text) => {
            const status = response.statusCode ?? 0;
            const body = parseJson(text);
            if (status >= 200 && status < 300) resolve(body as T);
            else reject(DaemonApiError.fromResponse(status, body));
          })
          .catch((error: unknown) => reject(new DaemonUnreachableError(`The daemon's answer to ${method} ${url.pathname} was cut off.`, { cause: error })));
      });
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)));
      outgoing.on('error', (error: Error & { code?: string }) => {
        // The daemon closes an idle keep-alive connection after a few seconds; a request sent on it just
        // as it closes is reset before the daemon read it. A read is safe to send again, once, afresh.
        if (retryOnStaleSocket && outgoing.reusedSocket && error.code === 'ECONNRESET') {
          attempt(false).then(resolve, reject);
          return;
        }
        const reason = connectionFailureReason(error);
        reject(new DaemonUnreachableError(`The m365-status daemon at ${url.origin} did not answer ${method} ${url.pathname}: ${reason}.`, { cause: error }));
      });
      outgoing.end(payload);
    });
    return attempt(method === 'GET');
  }
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        response.destroy(new Error('answer too large'));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
    response.on('aborted', () => reject(new Error('aborted')));
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return { error: { code: 'NOT_JSON', message: `The daemon answered something that is not JSON: ${text.slice(0, 120)}` } };
  }
}

function queryString(query: Readonly<Record<string, string | number | boolean | undefined>>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

// The list routes answer `{ entries: [...] }` (tasks, logs); a bare array is accepted too, so that the
// client does not break on the shape of a list it only reads.
function unwrapList<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const list = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined;
  if (Array.isArray(list)) return list as T[];
  throw new DaemonApiError(200, { code: 'UNEXPECTED_ANSWER', message: `The daemon's answer has no "${key}" list.` });
}

function unwrapTenant(body: unknown): TenantView {
  if (typeof body === 'object' && body !== null) {
    const record = body as Record<string, unknown>;
    if (typeof record.id === 'string' && typeof record.status === 'string') return body as TenantView;
    const inner = record.tenant;
    if (typeof inner === 'object' && inner !== null && typeof (inner as Record<string, unknown>).id === 'string') return inner as TenantView;
  }
  throw new DaemonApiError(200, { code: 'UNEXPECTED_ANSWER', message: 'The daemon answered without the tenant.' });
}
