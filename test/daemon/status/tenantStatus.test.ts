import assert from 'node:assert/strict';
import { loadConfig } from '../../../daemon/config';
import type { TenantStatusInput } from '../../../daemon/status/tenantStatus';
import { tenantStatus } from '../../../daemon/status/tenantStatus';
import type { TenantStatus } from '../../../daemon/store/storeTypes';

const MIN = 60_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 1);
const policy = loadConfig({ env: {} });

function tenant(change: Partial<TenantStatusInput> = {}): TenantStatusInput {
  return {
    createdAt: NOW - 100 * DAY,
    lastSyncAt: NOW - 30_000,
    lastError: null,
    lastManagementActivityAt: NOW - DAY,
    pollIntervalMs: null,
    ...change,
  };
}

const credentialsFailure = { at: NOW - 10_000, category: 'credentials', code: 'AADSTS7000215', message: 'Invalid client secret.' } as const;

describe('status: tenantStatus', () => {
  const cases: Array<{ name: string; input: TenantStatusInput; status: TenantStatus; pollIntervalMs: number }> = [
    { name: 'synced and managed recently', input: tenant(), status: 'ACTIVE', pollIntervalMs: MIN },
    { name: 'last attempt failed on credentials, even when also stale and dormant', input: tenant({ lastError: credentialsFailure, lastSyncAt: NOW - 10 * DAY, lastManagementActivityAt: NOW - 40 * DAY }), status: 'DISCONNECTED', pollIntervalMs: 60 * MIN },
    { name: 'last attempt failed on consent', input: tenant({ lastError: { ...credentialsFailure, category: 'consent' } }), status: 'DISCONNECTED', pollIntervalMs: MIN },
    { name: 'last attempt failed on permissions', input: tenant({ lastError: { ...credentialsFailure, category: 'permissions' } }), status: 'DISCONNECTED', pollIntervalMs: MIN },
    { name: 'a throttled attempt is not a disconnection', input: tenant({ lastError: { ...credentialsFailure, category: 'throttled' } }), status: 'ACTIVE', pollIntervalMs: MIN },
    { name: 'a failure older than the last success is over', input: tenant({ lastError: { ...credentialsFailure, at: NOW - 60_000 }, lastSyncAt: NOW - 30_000 }), status: 'ACTIVE', pollIntervalMs: MIN },
    { name: 'an inactive tenant polled every 15 min is not stale 3 minutes after its last sync', input: tenant({ lastSyncAt: NOW - 3 * MIN - 1, lastManagementActivityAt: NOW - 20 * DAY }), status: 'INACTIVE', pollIntervalMs: 15 * MIN },
    { name: 'no successful sync for just over 3 intervals', input: tenant({ lastSyncAt: NOW - 3 * MIN - 1 }), status: 'STALE', pollIntervalMs: MIN },
    { name: 'exactly 3 intervals is still current', input: tenant({ lastSyncAt: NOW - 3 * MIN }), status: 'ACTIVE', pollIntervalMs: MIN },
    { name: 'dormant for 30 days takes precedence over inactive', input: tenant({ lastManagementActivityAt: NOW - 30 * DAY }), status: 'DORMANT', pollIntervalMs: 60 * MIN },
    { name: 'a dormant tenant polled hourly is not stale after 3 minutes', input: tenant({ lastManagementActivityAt: NOW - 31 * DAY, lastSyncAt: NOW - 50 * MIN }), status: 'DORMANT', pollIntervalMs: 60 * MIN },
    { name: 'a dormant tenant is stale after 3 of its hourly intervals', input: tenant({ lastManagementActivityAt: NOW - 31 * DAY, lastSyncAt: NOW - 3 * 60 * MIN - 1 }), status: 'STALE', pollIntervalMs: 60 * MIN },
    { name: 'no management activity for 14 days', input: tenant({ lastManagementActivityAt: NOW - 14 * DAY }), status: 'INACTIVE', pollIntervalMs: 15 * MIN },
    { name: 'a day short of inactive', input: tenant({ lastManagementActivityAt: NOW - 13 * DAY }), status: 'ACTIVE', pollIntervalMs: MIN },
    { name: 'never synced, registered a minute ago', input: tenant({ createdAt: NOW - MIN, lastSyncAt: null, lastManagementActivityAt: NOW - MIN }), status: 'ACTIVE', pollIntervalMs: MIN },
    { name: 'never synced, registered 10 minutes ago', input: tenant({ createdAt: NOW - 10 * MIN, lastSyncAt: null, lastManagementActivityAt: NOW - 10 * MIN }), status: 'STALE', pollIntervalMs: MIN },
    { name: 'its own 5-minute interval while active', input: tenant({ pollIntervalMs: 5 * MIN, lastSyncAt: NOW - 14 * MIN }), status: 'ACTIVE', pollIntervalMs: 5 * MIN },
    { name: 'its own 2-hour interval is kept while inactive (never faster)', input: tenant({ pollIntervalMs: 120 * MIN, lastManagementActivityAt: NOW - 15 * DAY }), status: 'INACTIVE', pollIntervalMs: 120 * MIN },
  ];

  for (const { name, input, status, pollIntervalMs } of cases) {
    it(`${status} (poll every ${pollIntervalMs / MIN} min): ${name}`, () => {
      const result = tenantStatus(input, policy, NOW);
      assert.equal(result.status, status, result.reason);
      assert.equal(result.pollIntervalMs, pollIntervalMs);
      assert.equal(result.staleAfterMs, 3 * pollIntervalMs);
    });
  }

  it('gives the reason in plain words', () => {
    assert.equal(tenantStatus(tenant({ lastError: credentialsFailure }), policy, NOW).reason, 'the last attempt failed on credentials: Invalid client secret.');
    assert.equal(tenantStatus(tenant({ lastManagementActivityAt: NOW - 31 * DAY }), policy, NOW).reason, 'no management activity for 31 days');
  });
});
