import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiError, TenantView } from '../../../protocol/daemonApi';
import { createAppCertificate } from '../../support/appCertificate';
import { DaemonHarness } from '../../support/daemonHarness';
import { Vault } from '../../../daemon/vault/vault';
import { vaultFilesText } from '../../support/vaultFilesText';

describe('daemon API: tenants with certificates, rotation to a certificate, removal', function () {
  this.timeout(30_000);
  let harness: DaemonHarness;
  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
  });
  after(async () => harness.stop());

  it('registers a tenant with a certificate and its private key, syncs it, and knows when the certificate expires', async () => {
    const certificate = await createAppCertificate('CN=m365-status daemon test', 45);
    const sim = await harness.sim.createTenant({ users: 12, app: { secret: null, certificatePem: certificate.certificatePem } });
    const answer = await harness.api<TenantView>('POST', '/v1/tenants', {
      tenant: sim.domain,
      appId: sim.app.appId,
      credential: { kind: 'certificate', ...certificate },
    });
    assert.equal(answer.status, 201);
    assert.equal(answer.body.credentialKind, 'certificate');
    assert.equal(answer.body.credentialHealth?.canGetToken, true);
    const days = ((answer.body.credentialHealth?.credentialExpiresAt ?? 0) - Date.now()) / 86_400_000;
    assert.ok(days > 44 && days < 46, `${days} days`);
    const synced = await harness.until(async () => {
      const view = (await harness.api<TenantView>('GET', `/v1/tenants/${answer.body.id}`)).body;
      return view.counts.total === 12 ? view : undefined;
    });
    assert.equal(synced.status, 'ACTIVE');
    const vault = await vaultFilesText(harness.dataDir);
    const keyBody = certificate.privateKeyPem.split('\n')[1] ?? '';
    assert.ok(keyBody.length > 20 && !vault.includes(keyBody), 'the private key is encrypted in the vault');
    for (const name of ['store.json', 'store.journal']) assert.ok(!(await readFile(join(harness.dataDir, name), 'utf8')).includes(keyBody), `not in ${name}`);
  });

  it('rotates a secret tenant to a certificate', async () => {
    const { sim, id } = await harness.registerTenant({ users: 4 });
    const certificate = await createAppCertificate('CN=rotated');
    await harness.sim.control('POST', `/tenants/${sim.id}/apps/${sim.app.appId}/certificates`, { pem: certificate.certificatePem });
    const rotated = await harness.api<TenantView>('PUT', `/v1/tenants/${id}/credentials`, { credential: { kind: 'certificate', ...certificate } });
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.credentialKind, 'certificate');
    assert.equal(rotated.body.credentialHealth?.canGetToken, true);
  });

  it('refuses a certificate that does not parse, or a key of another certificate, naming the field, and keeps the working credential', async () => {
    const { id } = await harness.registerTenant({ users: 2 });
    const mine = await createAppCertificate('CN=mine');
    const another = await createAppCertificate('CN=another');
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ ...mine, certificatePem: '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n' }, 'credential.certificatePem', /not a readable X\.509 certificate/],
      [{ ...mine, privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }, 'credential.privateKeyPem', /not a readable private key/],
      [{ certificatePem: mine.certificatePem, privateKeyPem: another.privateKeyPem }, 'credential.privateKeyPem', /the private key of another certificate/],
    ];
    for (const [certificate, field, message] of cases) {
      const refused = await harness.api<ApiError>('PUT', `/v1/tenants/${id}/credentials`, { credential: { kind: 'certificate', ...certificate } });
      assert.equal(refused.status, 400, field);
      assert.equal(refused.body.error.code, 'VALIDATION_FAILED');
      assert.equal(refused.body.error.details?.field, field);
      assert.match(refused.body.error.message, message);
      assert.ok(!refused.body.error.message.includes('AAAA') && !refused.body.error.message.includes(another.privateKeyPem.split('\n')[1] ?? '-'), 'no key material in the answer');
    }
    const checked = (await harness.api<TenantView>('POST', `/v1/tenants/${id}/credential-health`)).body;
    assert.equal(checked.credentialKind, 'secret', 'the secret stays');
    assert.equal(checked.credentialHealth?.canGetToken, true, 'and still signs in');
    const registered = await harness.api<ApiError>('POST', '/v1/tenants', { tenant: 'unreadable.onmicrosoft.com', appId: '00000000-0000-4000-8000-000000000001', credential: { kind: 'certificate', ...cases[0]![0] } });
    assert.equal(registered.status, 400);
    assert.equal(registered.body.error.details?.field, 'credential.certificatePem');
  });

  it('removes a tenant: gone from the API, its users file and its credentials deleted, no more polls', async () => {
    const { sim, id } = await harness.registerTenant({ users: 6 });
    await harness.until(async () => (await harness.api<TenantView>('GET', `/v1/tenants/${id}`)).body.asOf);
    const removed = await harness.api('DELETE', `/v1/tenants/${id}`);
    assert.equal(removed.status, 204);
    assert.equal((await harness.api('GET', `/v1/tenants/${id}`)).status, 404);
    for (const name of [`${id}.json`, `${id}.snap.json`, `${id}.log`]) await assert.rejects(access(join(harness.dataDir, 'users', name)));
    assert.equal((await Vault.storedTenantIds(harness.dataDir)).includes(id), false);
    await harness.sim.control('DELETE', `/tenants/${sim.id}/counters`);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const counters = await harness.sim.control<{ graphRequests: number; tokenRequests: number }>('GET', `/tenants/${sim.id}/counters`);
    assert.deepEqual([counters.body.graphRequests, counters.body.tokenRequests], [0, 0], 'a removed tenant is no longer polled');
  });

  it('reuses msal\'s token cache across polls instead of a token per call', async () => {
    const { sim, id } = await harness.registerTenant({ users: 3 });
    await harness.until(async () => (await harness.api<TenantView>('GET', `/v1/tenants/${id}`)).body.asOf);
    await harness.sim.control('DELETE', `/tenants/${sim.id}/counters`);
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    const counters = await harness.sim.control<{ byOperation: Record<string, number>; tokenRequests: number }>('GET', `/tenants/${sim.id}/counters`);
    assert.ok((counters.body.byOperation['users.delta'] ?? 0) >= 2, 'it polled');
    assert.equal(counters.body.tokenRequests, 0, 'with the cached token');
  });
});
