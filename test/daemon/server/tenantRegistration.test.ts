import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiError, TenantView } from '../../../protocol/daemonApi';
import { Vault } from '../../../daemon/vault/vault';
import { DaemonHarness } from '../../support/daemonHarness';
import { withFileSizeLimit } from '../../support/withFileSizeLimit';

const openidConfiguration = /\/v2\.0\/\.well-known\/openid-configuration$/;

describe('daemon API: registering a tenant with its own app', function () {
  this.timeout(60_000);

  describe('one tenant, however it is given', () => {
    let harness: DaemonHarness;
    before(async () => {
      harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
    });
    after(async () => harness.stop());

    const add = (tenant: string, app: { appId: string; secret: string }, displayName?: string) =>
      harness.api<TenantView & Partial<ApiError>>('POST', '/v1/tenants', {
        tenant,
        ...(displayName ? { displayName } : {}),
        appId: app.appId,
        credential: { kind: 'secret', clientSecret: app.secret },
      });

    const vaultEntries = (): Promise<string[]> => Vault.storedTenantIds(harness.dataDir);

    it('refuses a tenant registered by its domain when it is added again by its directory id, naming the tenant registered', async () => {
      const sim = await harness.sim.createTenant({ users: 2, domain: 'northwind-reg.onmicrosoft.com' });
      const first = await add(sim.domain, sim.app, 'Northwind');
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const tenantsBefore = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants.length;
      const vaultBefore = await vaultEntries();

      const again = await add(sim.id, sim.app);
      assert.equal(again.status, 409);
      assert.equal(again.body.error?.code, 'TENANT_EXISTS');
      assert.match(again.body.error?.message ?? '', new RegExp(`${sim.id} is already registered as "Northwind" \\(registered as ${sim.domain.replaceAll('.', '\\.')}\\)`));
      assert.equal(again.body.error?.details?.tenantId, first.body.id);
      assert.equal((await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants.length, tenantsBefore, 'no second tenant');
      assert.deepEqual(await vaultEntries(), vaultBefore, 'no credential kept for the refused one');
    });

    it('refuses a tenant registered by its directory id when it is added again by its domain', async () => {
      const sim = await harness.sim.createTenant({ users: 2, domain: 'fabrikam-reg.onmicrosoft.com' });
      const first = await add(sim.id, sim.app, 'Fabrikam');
      assert.equal(first.status, 201, JSON.stringify(first.body));

      const again = await add(sim.domain.toUpperCase(), sim.app);
      assert.equal(again.status, 409);
      assert.equal(again.body.error?.code, 'TENANT_EXISTS');
      assert.match(again.body.error?.message ?? '', /is already registered as "Fabrikam"/);
      assert.equal(again.body.error?.details?.tenantId, first.body.id);
    });

    it('registers a tenant once when it is added by its domain and by its directory id at the same moment', async () => {
      const sim = await harness.sim.createTenant({ users: 2, domain: 'tailspin-reg.onmicrosoft.com' });
      const vaultBefore = (await vaultEntries()).length;
      const answers = await Promise.all([add(sim.domain, sim.app), add(sim.id, sim.app)]);
      assert.deepEqual(answers.map((answer) => answer.status).sort(), [201, 409], JSON.stringify(answers.map((answer) => answer.body)));
      const [added, refused] = answers[0]?.status === 201 ? answers : [answers[1], answers[0]];
      assert.equal(refused?.body.error?.code, 'TENANT_EXISTS');
      assert.equal(refused?.body.error?.details?.tenantId, added?.body.id, 'the refusal names the tenant registered');
      const tenants = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants;
      assert.equal(tenants.filter((tenant) => tenant.tenant === sim.domain || tenant.tenant === sim.id).length, 1);
      assert.equal((await vaultEntries()).length, vaultBefore + 1, 'one credential kept');
    });

    it('still registers a different tenant next to them', async () => {
      const sim = await harness.sim.createTenant({ users: 2, domain: 'contoso-reg.onmicrosoft.com' });
      const answer = await add(sim.domain, sim.app);
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.equal(answer.body.credentialHealth?.canGetToken, true);
    });
  });

  describe('against one cloud instance', () => {
    let harness: DaemonHarness;
    const discoveries: string[] = [];
    before(async () => {
      harness = await DaemonHarness.start({ pollIntervalMs: '5s' }, undefined, {}, {
        observe: (request) => {
          if (request.method === 'GET' && openidConfiguration.test(request.path)) discoveries.push(request.path);
        },
      });
    });
    after(async () => harness.stop());

    it("asks no tenant's OpenID configuration before its token requests, and checks each tenant's credential for real", async () => {
      const registered: TenantView[] = [];
      for (let i = 0; i < 4; i++) {
        const sim = await harness.sim.createTenant({ users: 2 });
        const answer = await harness.api<TenantView>('POST', '/v1/tenants', { tenant: sim.id, appId: sim.app.appId, credential: { kind: 'secret', clientSecret: sim.app.secret } });
        assert.equal(answer.status, 201, JSON.stringify(answer.body));
        registered.push(answer.body);
      }
      for (const tenant of registered) assert.equal(tenant.credentialHealth?.canGetToken, true);

      const wrong = await harness.sim.createTenant({ users: 2 });
      const refused = await harness.api<TenantView>('POST', '/v1/tenants', { tenant: wrong.id, appId: wrong.app.appId, credential: { kind: 'secret', clientSecret: 'not-the-secret' } });
      assert.equal(refused.body.credentialHealth?.canGetToken, false);
      assert.equal(refused.body.credentialHealth?.failure?.code, 'AADSTS7000215', 'a wrong secret is still named');
      // The endpoints are laid out as the identity platform lays them out: msal's first request is the token's.
      // The one document asked is the work-and-school one, once, as the daemon started: its connection ahead.
      assert.deepEqual(discoveries, ['/organizations/v2.0/.well-known/openid-configuration']);

      // Given by domain, the tenant is first looked up by its directory id, to refuse it if registered.

      const unknown = await harness.api<TenantView>('POST', '/v1/tenants', {
        tenant: 'nobody-here-reg.onmicrosoft.com',
        appId: wrong.app.appId,
        credential: { kind: 'secret', clientSecret: 'x' },
      });
      assert.equal(unknown.body.credentialHealth?.failure?.code, 'AADSTS90002', 'an unknown tenant is still told apart');
    });
  });

  describe('when the vault cannot be written', () => {
    let harness: DaemonHarness;
    before(async () => {
      harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
    });
    after(async () => harness.stop());

    it('fails the registration and keeps nothing of the tenant, which can then be registered', async () => {
      const sim = await harness.sim.createTenant({ users: 2 });
      const body = { tenant: sim.id, appId: sim.app.appId, credential: { kind: 'secret', clientSecret: sim.app.secret } };
      // The vault appends to a file it holds open: a one-byte file-size limit makes the append fail.
      const failed = await withFileSizeLimit(1, () => harness.api<ApiError>('POST', '/v1/tenants', body));
      assert.equal(failed.status, 500, JSON.stringify(failed.body));
      assert.deepEqual((await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants, []);
      // Not even written yet, or written without the tenant.
      const text = await readFile(join(harness.dataDir, 'store.json'), 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? '{"tenants":[]}' : Promise.reject(error)));
      assert.deepEqual((JSON.parse(text) as { tenants: unknown[] }).tenants, [], 'no tenant in store.json');
      const journal = await readFile(join(harness.dataDir, 'store.journal'), 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? '' : Promise.reject(error)));
      assert.equal(journal, '', 'no tenant in store.journal');

      assert.deepEqual(await Vault.storedTenantIds(harness.dataDir), [], 'no credential kept on disk');
      const added = await harness.api<TenantView>('POST', '/v1/tenants', body);
      assert.equal(added.status, 201, JSON.stringify(added.body));
      assert.equal(added.body.credentialHealth?.canGetToken, true);
    });
  });

  describe('across a crash', () => {
    let harness: DaemonHarness;
    before(async () => {
      harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
    });
    after(async () => harness.stop());

    it('drops at start a credential whose tenant was never written, as a crash between the two writes leaves it', async () => {
      const { id } = await harness.registerTenant({ users: 2 });
      await harness.daemon.stop();
      // The vault is written first: a crash before the tenant reached store.json leaves just this.
      const vault = await Vault.open(harness.dataDir);
      await vault.put('5f0c7a52-0000-4000-8000-00000000c0de', { kind: 'secret', clientSecret: 'written-before-the-crash' });
      await vault.close();

      await harness.restart();
      const tenants = (await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants;
      assert.deepEqual(tenants.map((tenant) => tenant.id), [id]);
      assert.deepEqual(await Vault.storedTenantIds(harness.dataDir), [id]);
    });
  });
});
