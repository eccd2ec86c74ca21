import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, storeMode } from '../../daemon/config';
import type { AppError } from '../../daemon/errors/AppError';
import { tempDataDir } from '../support/tempDataDir';

function configError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    return error as AppError;
  }
  assert.fail('expected loadConfig to throw');
}

describe('config', () => {
  it('defaults to the documented values', () => {
    const config = loadConfig({ env: {}, home: '/home/op' });
    assert.equal(config.dataDir, '/home/op/.m365-status');
    assert.equal(config.pollIntervalMs, 60_000);
    assert.equal(config.staleAfterPolls, 3);
    assert.equal(config.inactiveAfterMs, 14 * 86_400_000);
    assert.equal(config.dormantAfterMs, 30 * 86_400_000);
    assert.equal(config.inactivePollIntervalMs, 15 * 60_000);
    assert.equal(config.dormantPollIntervalMs, 3_600_000);
    assert.equal(config.refreshDedupWindowMs, 6 * 3_600_000);
    assert.equal(config.authorityHost, 'https://login.microsoftonline.com');
    assert.equal(config.graphBaseUrl, 'https://graph.microsoft.com/v1.0');
    assert.equal(config.caFile, undefined);
    assert.ok(Object.isFrozen(config));
  });

  it('reads the data directory and durations with units from the environment', () => {
    const config = loadConfig({
      env: {
        M365_STATUS_DATA_DIR: '~/custom',
        M365_STATUS_POLL_INTERVAL: '90s',
        M365_STATUS_REFRESH_DEDUP_WINDOW: '2h',
        M365_STATUS_MAX_CONCURRENT_SYNCS: '3',
        M365_STATUS_GRAPH_BASE_URL: 'https://127.0.0.1:8443/v1.0/',
      },
      home: '/home/op',
    });
    assert.equal(config.dataDir, '/home/op/custom');
    assert.equal(config.pollIntervalMs, 90_000);
    assert.equal(config.refreshDedupWindowMs, 7_200_000);
    assert.equal(config.maxConcurrentTenantSyncs, 3);
    assert.equal(config.graphBaseUrl, 'https://127.0.0.1:8443/v1.0');
  });

  it('names the environment variable, the value and what is expected when a value is bad', () => {
    const error = configError(() => loadConfig({ env: { M365_STATUS_POLL_INTERVAL: '60' } }));
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.equal(error.details?.['setting'], 'M365_STATUS_POLL_INTERVAL');
    assert.match(error.message, /M365_STATUS_POLL_INTERVAL/);
    assert.match(error.message, /with a unit/);
    assert.match(error.message, /"60"/);
  });

  it('names the command-line flag when the bad value came from it', () => {
    const error = configError(() => loadConfig({ env: { M365_STATUS_PORT: '8080' }, overrides: { port: '70000' } }));
    assert.equal(error.details?.['setting'], '--port');
    assert.match(error.message, /at most 65535/);
  });

  it('refuses a Microsoft endpoint that is not https', () => {
    const error = configError(() => loadConfig({ env: { M365_STATUS_AUTHORITY_HOST: 'http://login.example' } }));
    assert.match(error.message, /M365_STATUS_AUTHORITY_HOST: expected an https:\/\/ URL/);
  });

  it('requires the CA file to exist, and accepts one that does', async () => {
    const missing = configError(() => loadConfig({ env: { M365_STATUS_CA_FILE: '/nonexistent/ca.pem' } }));
    assert.match(missing.message, /M365_STATUS_CA_FILE: no file at \/nonexistent\/ca\.pem/);

    const { dir, cleanup } = await tempDataDir();
    try {
      const ca = join(dir, 'ca.pem');
      await writeFile(ca, '-----BEGIN CERTIFICATE-----\n');
      assert.equal(loadConfig({ env: { M365_STATUS_CA_FILE: ca } }).caFile, ca);
    } finally {
      await cleanup();
    }
  });

  it('refuses a dormant threshold that is not longer than the inactive one', () => {
    const error = configError(() => loadConfig({ env: { M365_STATUS_INACTIVE_AFTER: '30d', M365_STATUS_DORMANT_AFTER: '14d' } }));
    assert.match(error.message, /M365_STATUS_DORMANT_AFTER: must be longer than M365_STATUS_INACTIVE_AFTER/);
  });

  it('runs on the local store unless given a postgres:// connection string for a shared one', () => {
    assert.equal(storeMode(loadConfig({ env: {} })), 'local');
    const shared = loadConfig({ overrides: { store: 'postgres://m365@db.example.net:5432/m365' } });
    assert.equal(storeMode(shared), 'shared');
    assert.equal(shared.store, 'postgres://m365@db.example.net:5432/m365');
  });

  it('holds tenant leases 30 s by default, takes a shorter lease for a quicker takeover, and refuses one under 3 s', () => {
    assert.equal(loadConfig({ env: {} }).tenantLeaseMs, 30_000);
    assert.equal(loadConfig({ env: {}, overrides: { tenantLeaseMs: '6s' } }).tenantLeaseMs, 6_000);
    assert.equal(loadConfig({ env: { M365_STATUS_TENANT_LEASE: '2m' } }).tenantLeaseMs, 120_000);
    const error = configError(() => loadConfig({ env: {}, overrides: { tenantLeaseMs: '1s' } }));
    assert.equal(error.details?.['setting'], '--tenant-lease');
    assert.match(error.message, /must be at least 3s/);
  });

  it('refuses a store that is not a postgres:// connection string, without repeating its password', () => {
    const error = configError(() => loadConfig({ env: { M365_STATUS_STORE: 'mysql://admin:hunter2@db/m365' } }));
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /M365_STATUS_STORE: expected a postgres:\/\/ connection string/);
    assert.match(error.message, /admin:\*\*\*@db/);
    assert.doesNotMatch(error.message, /hunter2/);
  });
});
