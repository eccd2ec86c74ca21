import { isDeepStrictEqual } from 'node:util';
import type { TaskListEntry, TenantView, UserView } from '../../protocol/daemonApi';
import type { RawRequest } from './daemonProcess';
import type { SoakTenant, SoakWorld } from './soakWorld';

export interface HostileRequest extends RawRequest {
  category: string;
}

export interface HostileInputsReport {
  sent: number;
  /** Answers by category, then by status code, e.g. { "bad query": { "400": 31 } }. */
  statuses: Record<string, Record<string, number>>;
  /** Requests answered 5xx (or not answered at all), each described. */
  failures: string[];
  /** What differs in the store between before and after, if anything. */
  changed: string[];
}

const json = { 'content-type': 'application/json' };
const hostileIds: Array<{ raw: string; category: string }> = [
  { raw: 'x'.repeat(5000), category: 'over-long id' },
  { raw: 'constructor', category: 'inherited-key id' },
  { raw: '__proto__', category: 'inherited-key id' },
  { raw: 'prototype', category: 'inherited-key id' },
  { raw: 'toString', category: 'inherited-key id' },
  { raw: 'hasOwnProperty', category: 'inherited-key id' },
  { raw: 'valueOf', category: 'inherited-key id' },
  { raw: '..', category: 'odd id' },
  { raw: '\u0000', category: 'odd id' },
  { raw: "' OR '1'='1", category: 'odd id' },
  { raw: '<script>alert(1)</script>', category: 'odd id' },
  { raw: '%E0%A4%A', category: 'malformed encoding' },
];

/** The hostile requests: over-long and inherited-key ids, wrong content types, bodies where none belong, bad JSON, huge bodies, bad query values. */
export function hostileRequests(tenant: SoakTenant, userId: string): HostileRequest[] {
  const requests: HostileRequest[] = [];
  const t = tenant.id;
  for (const { raw, category } of hostileIds) {
    const id = category === 'malformed encoding' ? raw : encodeURIComponent(raw);
    const tagged: RawRequest[] = [
      { method: 'GET', path: `/v1/tenants/${id}` },
      { method: 'DELETE', path: `/v1/tenants/${id}` },
      { method: 'PUT', path: `/v1/tenants/${id}/credentials`, headers: json, body: JSON.stringify({ credential: { kind: 'secret', clientSecret: 'not-a-real-secret' } }) },
      { method: 'POST', path: `/v1/tenants/${id}/credential-health` },
      { method: 'POST', path: `/v1/tenants/${id}/refresh` },
      { method: 'GET', path: `/v1/tenants/${id}/users` },
      { method: 'POST', path: `/v1/tenants/${id}/users/${userId}/lock`, headers: json, body: '{}' },
      { method: 'POST', path: `/v1/tenants/${t}/users/${id}/lock`, headers: json, body: '{}' },
      { method: 'POST', path: `/v1/tenants/${t}/users/${id}/unlock`, headers: json, body: '{}' },
      { method: 'GET', path: `/v1/tasks?tenantId=${id}` },
      { method: 'GET', path: `/v1/logs?tenantId=${id}&taskId=${id}` },
      { method: 'POST', path: '/v1/tenants', headers: json, body: JSON.stringify({ tenant: raw, appId: raw, credential: { kind: 'secret', clientSecret: raw } }) },
    ];
    requests.push(...tagged.map((r) => ({ ...r, category })));
  }
  const huge = JSON.stringify({ revokeSessions: true, padding: 'x'.repeat(5 * 1024 * 1024) });
  const as = (category: string, list: RawRequest[]) => requests.push(...list.map((r) => ({ ...r, category })));
  as('wrong content type', [
    // Wrong content types, on ids that name nothing, so what the daemon does with the body cannot change a user.
    { method: 'POST', path: '/v1/tenants', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ tenant: 'contoso.onmicrosoft.com', appId: '00000000-0000-4000-8000-000000000000', credential: { kind: 'secret', clientSecret: 's' } }) },
    { method: 'POST', path: '/v1/tenants', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'tenant=contoso.onmicrosoft.com&appId=x' },
    { method: 'PUT', path: `/v1/tenants/${t}/credentials`, headers: { 'content-type': 'text/plain' }, body: '{"credential":{"kind":"secret","clientSecret":"s"}}' },
    { method: 'POST', path: `/v1/tenants/${t}/users/no-such-user/lock`, headers: { 'content-type': 'text/plain' }, body: '{"revokeSessions":true}' },
    { method: 'POST', path: `/v1/tenants/${t}/users/no-such-user/unlock`, headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' },
  ]);
  as('body on a body-less route', [
    { method: 'GET', path: '/v1/tenants', headers: json, body: '{"tenant":"x"}' },
    { method: 'GET', path: `/v1/tenants/${t}/users`, headers: json, body: '{"limit":5}' },
    { method: 'GET', path: '/v1/tasks', headers: json, body: '[1,2,3]' },
    { method: 'GET', path: '/v1/health', headers: json, body: '{"ok":false}' },
    { method: 'DELETE', path: '/v1/tenants/no-such-tenant', headers: json, body: '{"force":true}' },
    { method: 'POST', path: '/v1/tenants/no-such-tenant/refresh', headers: json, body: '{"all":true}' },
  ]);
  // Bad JSON, and JSON that tries to reach prototypes; on the real tenant and user, refused before any action.
  as('bad JSON', [
    { method: 'POST', path: '/v1/tenants', headers: json, body: '{' },
    { method: 'POST', path: '/v1/tenants', headers: json, body: '{"__proto__":{"isAdmin":true},"tenant":"x"}' },
    { method: 'POST', path: '/v1/tenants', headers: json, body: '{"constructor":{"prototype":{"polluted":true}}}' },
    { method: 'POST', path: `/v1/tenants/${t}/users/${userId}/lock`, headers: json, body: '{"revokeSessions":' },
    { method: 'POST', path: `/v1/tenants/${t}/users/${userId}/lock`, headers: json, body: '{"revokeSessions":"yes"}' },
    { method: 'POST', path: `/v1/tenants/${t}/users/${userId}/lock`, headers: json, body: '{"__proto__":{"revokeSessions":true},"extra":1}' },
    { method: 'POST', path: `/v1/tenants/${t}/users/${userId}/unlock`, headers: json, body: 'null' },
    { method: 'PUT', path: `/v1/tenants/${t}/credentials`, headers: json, body: '[' },
    { method: 'PUT', path: `/v1/tenants/${t}/credentials`, headers: json, body: '{"credential":{"kind":"password","value":"x"}}' },
  ]);
  as('huge body', [
    { method: 'POST', path: '/v1/tenants', headers: json, body: huge },
    { method: 'POST', path: `/v1/tenants/${t}/users/${userId}/lock`, headers: json, body: huge },
    { method: 'PUT', path: `/v1/tenants/${t}/credentials`, headers: json, body: huge },
  ]);
  as('bad query', [
    ...[
      'limit=-1', 'limit=0', 'limit=abc', 'limit=99999999', 'limit=1e400', 'offset=-5', 'offset=1.5', 'offset=NaN',
      'state=bogus', 'state=__proto__', `text=${'x'.repeat(10_000)}`, 'limit=1&limit=2', 'unknown=1', '__proto__=1', 'constructor=x',
    ].map((q) => ({ method: 'GET', path: `/v1/tenants/${t}/users?${q}` })),
    ...['automated=maybe', 'limit=0', 'limit=abc', `tenantId=${'x'.repeat(1000)}`, 'automated=true&automated=false', 'toString=1'].map((q) => ({ method: 'GET', path: `/v1/tasks?${q}` })),
    ...['limit=-3', 'limit=abc', `taskId=${'x'.repeat(1000)}`, 'level=everything'].map((q) => ({ method: 'GET', path: `/v1/logs?${q}` })),
  ]);
  as('no or wrong credentials', [
    { method: 'GET', path: '/v1/tenants', anonymous: true },
    { method: 'POST', path: `/v1/tenants/${t}/users/${userId}/lock`, anonymous: true, headers: { ...json, authorization: 'Bearer wrong' }, body: '{}' },
    { method: 'GET', path: `/v1/tenants/${t}`, headers: { host: 'evil.example' } },
  ]);
  return requests;
}

interface StoreSnapshot {
  tenants: unknown[];
  users: Record<string, unknown[]>;
  management: string[];
}

/** What the operator's requests can change, read through the API: tenants, users and their locks, management tasks. */
export async function storeSnapshot(world: SoakWorld): Promise<StoreSnapshot> {
  const tenants = await world.daemon.api<{ tenants: TenantView[] }>('GET', '/v1/tenants');
  const users: Record<string, unknown[]> = {};
  for (const tenant of world.tenants) {
    users[tenant.id] = [...(await world.daemonUsers(tenant)).values()]
      .map((u: UserView) => ({ id: u.id, accountEnabled: u.accountEnabled, state: u.state, lock: u.lock }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }
  const tasks = await world.daemon.api<{ entries: TaskListEntry[] }>('GET', '/v1/tasks?limit=1000');
  return {
    tenants: tenants.body.tenants
      .map((t) => ({ id: t.id, tenant: t.tenant, displayName: t.displayName, appId: t.appId, credentialKind: t.credentialKind, pollIntervalMs: t.pollIntervalMs }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    users,
    management: tasks.body.entries.map((e) => (e.type === 'activity' ? `activity:${e.activity.id}` : `task:${e.task.id}`)).sort(),
  };
}

/** Sends every hostile request; answers what came back and whether the store moved. */
export async function hostileInputs(world: SoakWorld, tenant: SoakTenant, userId: string): Promise<HostileInputsReport> {
  const report: HostileInputsReport = { sent: 0, statuses: {}, failures: [], changed: [] };
  const count = (category: string, status: string) => {
    const byStatus = (report.statuses[category] ??= {});
    byStatus[status] = (byStatus[status] ?? 0) + 1;
  };
  const before = await storeSnapshot(world);
  for (const request of hostileRequests(tenant, userId)) {
    report.sent++;
    const what = `${request.method} ${request.path.slice(0, 100)}${request.headers?.['content-type'] ? ` (${request.headers['content-type']})` : ''}`;
    try {
      const answer = await world.daemon.raw(request);
      count(request.category, String(answer.status));
      if (answer.status >= 500) report.failures.push(`${what} answered ${answer.status}: ${answer.text.slice(0, 160)}`);
    } catch (error) {
      // A huge body may be cut off by the daemon closing early; that is a refusal, not a failure, if it lives on.
      const health = await world.daemon.raw({ method: 'GET', path: '/v1/health' }).catch(() => undefined);
      if (health?.status === 200) {
        count(request.category, 'closed');
      } else {
        report.failures.push(`${what}: ${(error as Error).message}, and the daemon no longer answers`);
      }
    }
  }
  const after = await storeSnapshot(world);
  for (const key of ['tenants', 'users', 'management'] as const) {
    if (!isDeepStrictEqual(before[key], after[key])) report.changed.push(`${key} changed`);
  }
  // Last and on its own, on a real user: a lock sent as text/plain must be refused with 415, not run with
  // the defaults because its JSON went unread.
  const lockAsText: HostileRequest = {
    method: 'POST',
    path: `/v1/tenants/${tenant.id}/users/${userId}/lock`,
    headers: { 'content-type': 'text/plain' },
    body: '{"revokeSessions":true}',
    category: 'wrong content type on a real user',
  };
  report.sent++;
  const answer = await world.daemon.raw(lockAsText);
  count(lockAsText.category, String(answer.status));
  if (answer.status !== 415) report.failures.push(`${lockAsText.method} ${lockAsText.path} (text/plain) answered ${answer.status}, not 415`);
  const afterText = await storeSnapshot(world);
  if (!isDeepStrictEqual(after.users, afterText.users)) report.changed.push('users changed by a text/plain lock');
  return report;
}
