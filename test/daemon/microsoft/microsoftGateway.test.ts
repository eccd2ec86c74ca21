import assert from 'node:assert/strict';
import type { LookupAddress, LookupAllOptions } from 'node:dns';
import { createServer, type AddressInfo, type LookupFunction } from 'node:net';
import { Agent } from 'undici';
import { attributeAccountChange } from '../../../daemon/microsoft/auditAttribution';
import { probeCredentialHealth } from '../../../daemon/microsoft/credentialProbe';
import { createHttpDispatcher } from '../../../daemon/microsoft/httpDispatcher';
import type { MicrosoftEndpoints } from '../../../daemon/microsoft/microsoftEndpoints';
import { classifyMicrosoftFailure, isDisconnecting, type MicrosoftFailure } from '../../../daemon/microsoft/microsoftFailure';
import { createTenantGraphClient } from '../../../daemon/microsoft/tenantGraphClient';
import { TenantTokenSource } from '../../../daemon/microsoft/tenantTokenSource';
import { readUserSignInState, revokeSignInSessions, setAccountEnabled } from '../../../daemon/microsoft/userAccount';
import { readUserChanges } from '../../../daemon/microsoft/userDelta';
import { createAppCertificate } from '../../support/appCertificate';
import { SimHarness } from '../../support/simHarness';

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a failure');
}

describe('daemon/microsoft: Graph and identity gateway against the simulator', () => {
  let harness: SimHarness;
  before(async () => {
    harness = await SimHarness.start();
  });
  after(async () => harness.stop());

  /**
   * What a token request and a Graph call of a fresh tenant fail with over `dispatcher` to `endpoints`,
   * classified as the tenant would report them. The Graph call has a good token, so its failure is Graph's.
   */
  async function tokenAndGraphFailures(endpoints: MicrosoftEndpoints, dispatcher: Agent): Promise<MicrosoftFailure[]> {
    const tenant = await harness.createTenant({ users: 1 });
    const credential = { kind: 'secret' as const, clientSecret: tenant.app.secret };
    const tokenFailure = classifyMicrosoftFailure(await thrown(new TenantTokenSource({ tenant: tenant.id, clientId: tenant.app.appId, credential }, endpoints, dispatcher).acquire()));
    const trustedTokens = harness.tokens(tenant.id, tenant.app.appId, credential);
    await trustedTokens.acquire();
    const graphFailure = classifyMicrosoftFailure(await thrown(createTenantGraphClient(trustedTokens, endpoints, dispatcher, { maxRetries: 0, delaySeconds: 1 }).api('/organization').get()));
    return [tokenFailure, graphFailure];
  }

  describe('readUserChanges', () => {
    it('reads every user in a full first round, then only changes and removals', async () => {
      const tenant = await harness.createTenant({ users: 420, userMix: { privilegedShare: 0 } });
      const client = harness.clientFor(tenant);
      const first = await readUserChanges(client, null);
      assert.equal(first.fullRound, true);
      assert.equal(first.users.length, 420);
      assert.equal(first.pages, 3);
      const someone = first.users.find((u) => u.accountEnabled) ?? assert.fail('an enabled user');
      assert.equal(typeof someone.userPrincipalName, 'string');
      await harness.control('PATCH', `/tenants/${tenant.id}/users/${someone.id}`, { accountEnabled: false });
      const gone = first.users[3] ?? assert.fail('a user');
      await harness.control('DELETE', `/tenants/${tenant.id}/users/${gone.id}`);
      const second = await readUserChanges(client, first.deltaLink);
      assert.equal(second.fullRound, false);
      assert.deepEqual(second.users.map((u) => [u.id, u.accountEnabled]), [[someone.id, false]]);
      assert.deepEqual(second.removedUserIds, [gone.id]);
    });

    it('falls back to a full round, with the change in it, when the delta token has expired', async () => {
      const tenant = await harness.createTenant({ users: 50, userMix: { privilegedShare: 0, disabledShare: 0 } });
      const first = await readUserChanges(harness.clientFor(tenant), null);
      const target = first.users[0] ?? assert.fail('a user');
      await harness.control('PATCH', `/tenants/${tenant.id}/users/${target.id}`, { accountEnabled: false });
      await harness.control('POST', `/tenants/${tenant.id}/delta/invalidate`, { mode: 'syncStateNotFound' });
      const again = await readUserChanges(harness.clientFor(tenant), first.deltaLink);
      assert.equal(again.fullRound, true);
      assert.equal(again.users.length, 50);
      assert.equal(again.users.find((u) => u.id === target.id)?.accountEnabled, false);
    });

    it('follows the Location of a 410 resyncRequired into a full round', async () => {
      const tenant = await harness.createTenant({ users: 30 });
      const first = await readUserChanges(harness.clientFor(tenant), null);
      await harness.control('POST', `/tenants/${tenant.id}/delta/invalidate`, { mode: 'resyncRequired' });
      const again = await readUserChanges(harness.clientFor(tenant), first.deltaLink);
      assert.equal(again.fullRound, true);
      assert.equal(again.users.length, 30);
    });
  });

  describe('user actions', () => {
    it('disables, revokes sessions and enables a user; Graph confirms each', async () => {
      const tenant = await harness.createTenant({ users: 3, userMix: { privilegedShare: 0, disabledShare: 0 } });
      const client = harness.clientFor(tenant);
      const [user] = (await readUserChanges(client, null)).users;
      assert.ok(user);
      await setAccountEnabled(client, user.id, false);
      assert.equal((await readUserSignInState(client, user.id)).accountEnabled, false);
      await revokeSignInSessions(client, user.id);
      await setAccountEnabled(client, user.id, true);
      assert.equal((await readUserSignInState(client, user.id)).accountEnabled, true);
    });

    it('classifies a missing permission as a permissions failure with Graph\'s code', async () => {
      const tenant = await harness.createTenant({ users: 2, app: { roles: ['User.Read.All'] } });
      const client = harness.clientFor(tenant);
      const [user] = (await readUserChanges(client, null)).users;
      const failure = classifyMicrosoftFailure(await thrown(setAccountEnabled(client, user?.id ?? '', false)));
      assert.equal(failure.category, 'permissions');
      assert.equal(failure.code, 'Authorization_RequestDenied');
      assert.equal(failure.status, 403);
      assert.equal(isDisconnecting(failure.category), true);
    });
  });

  describe('classifyMicrosoftFailure', () => {
    it('explains a wrong secret in plain words with the fix, and marks it disconnecting', async () => {
      const tenant = await harness.createTenant();
      const tokens = harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: 'wrong' });
      const failure = classifyMicrosoftFailure(await thrown(tokens.acquire()));
      assert.equal(failure.category, 'credentials');
      assert.equal(failure.code, 'AADSTS7000215');
      assert.match(failure.message, /client secret is wrong/);
      assert.match(failure.remedy, /Value \(not its Secret ID\)/);
      assert.ok(!failure.message.includes('wrong'.repeat(2)));
    });

    it('reads the AADSTS reason back out of a token failure the Graph client wrapped', async () => {
      const tenant = await harness.createTenant();
      const client = harness.graph(harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: 'wrong' }));
      const failure = classifyMicrosoftFailure(await thrown(client.api('/users').get()));
      assert.equal(failure.category, 'credentials');
      assert.equal(failure.code, 'AADSTS7000215');
    });

    it('tells an unknown tenant (AADSTS90002) apart from an unreachable identity platform', async () => {
      const tokens = harness.tokens('nobody.onmicrosoft.com', '00000000-0000-4000-8000-000000000000', { kind: 'secret', clientSecret: 'x' });
      const failure = classifyMicrosoftFailure(await thrown(tokens.acquire()));
      assert.equal(failure.category, 'credentials');
      assert.equal(failure.code, 'AADSTS90002');
      assert.match(failure.message, /does not know this tenant/);
    });

    it('calls a 429 throttled with the Retry-After Graph gave', async () => {
      const tenant = await harness.createTenant({ users: 3 });
      await harness.control('PUT', `/tenants/${tenant.id}/throttling`, { resourceUnitsPer10s: 2 });
      const client = harness.clientFor(tenant, { maxRetries: 0, delaySeconds: 1 });
      await client.api('/organization').get();
      await client.api('/organization').get();
      const failure = classifyMicrosoftFailure(await thrown(client.api('/organization').get()));
      assert.equal(failure.category, 'throttled');
      assert.ok(failure.retryAfterMs !== null && failure.retryAfterMs > 0 && failure.retryAfterMs <= 10_000);
    });

    it('calls a refused connection a network failure and a hung one a timeout', async () => {
      const tenant = await harness.createTenant({ users: 1 });
      const closedPort = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as AddressInfo;
          probe.close(() => resolve(port));
        });
      });
      const deadEndpoints = { authorityHost: `https://127.0.0.1:${closedPort}`, graphHost: `https://127.0.0.1:${closedPort}`, caPem: harness.sim.caPem };
      const dead = createHttpDispatcher(deadEndpoints);
      const tokens = new TenantTokenSource({ tenant: tenant.id, clientId: tenant.app.appId, credential: { kind: 'secret', clientSecret: tenant.app.secret } }, deadEndpoints, dead);
      const refused = classifyMicrosoftFailure(await thrown(tokens.acquire()));
      assert.equal(refused.category, 'network');
      assert.equal(refused.code, 'ECONNREFUSED');
      assert.equal(isDisconnecting(refused.category), false, 'an unreachable network is not a credentials problem');
      await dead.close();

      await harness.control('PUT', `/tenants/${tenant.id}/faults`, { latencyMs: 1500 });
      const slowEndpoints = { ...harness.endpoints, requestTimeoutMs: 500 };
      const slow = createHttpDispatcher(slowEndpoints);
      const slowTokens = new TenantTokenSource({ tenant: tenant.id, clientId: tenant.app.appId, credential: { kind: 'secret', clientSecret: tenant.app.secret } }, slowEndpoints, slow);
      const timedOut = classifyMicrosoftFailure(await thrown(slowTokens.acquire()));
      assert.equal(timedOut.category, 'timeout', `${timedOut.category} ${timedOut.code}`);
      assert.match(timedOut.code, /TIMEOUT/);
      await harness.control('PUT', `/tenants/${tenant.id}/faults`, { latencyMs: 0 });
      await slow.close();
    });

    it('says Microsoft\'s certificate is not trusted here, with the certificate error and how to give the CA, for a token and for Graph', async () => {
      // The simulator's certificate is issued by its own CA, as a TLS-inspecting proxy's would be.
      const untrustedEndpoints = { ...harness.endpoints, caPem: undefined };
      const untrusted = createHttpDispatcher(untrustedEndpoints);
      for (const failure of await tokenAndGraphFailures(untrustedEndpoints, untrusted)) {
        assert.equal(failure.category, 'network', 'not a credentials problem: the tenant is not disconnected for it');
        assert.match(failure.code, /SELF_SIGNED|UNABLE_TO_(VERIFY|GET)/);
        assert.match(failure.message, /certificate.*not trusted/i);
        assert.ok(failure.message.includes(failure.code), failure.message);
        assert.match(failure.remedy, /--ca-file/);
        assert.match(failure.remedy, /M365_STATUS_CA_FILE/);
      }
      await untrusted.close();
    });

    it('says the certificate is issued to another host when DNS sends Microsoft\'s names elsewhere, for a token and for Graph', async () => {
      const port = new URL(harness.endpoints.authorityHost).port;
      // Microsoft's host names, resolved to the simulator: its certificate (trusted here) names 127.0.0.1
      // and localhost, as a hijacking resolver's or a misdirected proxy's names somebody else.
      const misdirected = { ...harness.endpoints, authorityHost: `https://login.microsoftonline.com:${port}`, graphHost: `https://graph.microsoft.com:${port}` };
      const toSimulator: LookupFunction = (_hostname, options, callback) => {
        if ((options as LookupAllOptions).all) (callback as (error: null, addresses: LookupAddress[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
        else (callback as (error: null, address: string, family: number) => void)(null, '127.0.0.1', 4);
      };
      const dispatcher = new Agent({ connect: { ca: harness.sim.caPem, lookup: toSimulator } });
      for (const failure of await tokenAndGraphFailures(misdirected, dispatcher)) {
        assert.equal(failure.category, 'network', 'not a credentials problem: the tenant is not disconnected for it');
        assert.equal(failure.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
        assert.match(failure.message, /certificate .* issued to another host \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
        assert.match(failure.remedy, /--authority-host/);
        assert.match(failure.remedy, /DNS/);
      }
      await dispatcher.close();
    });

    it('keeps the network error of a Graph call: a refused connection is network, a hung one a timeout, each with its code', async () => {
      const tenant = await harness.createTenant({ users: 1 });
      const tokens = harness.tokens(tenant.id, tenant.app.appId, { kind: 'secret', clientSecret: tenant.app.secret });
      await tokens.acquire();
      const closedPort = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as AddressInfo;
          probe.close(() => resolve(port));
        });
      });
      const deadEndpoints = { ...harness.endpoints, graphHost: `https://127.0.0.1:${closedPort}` };
      const dead = createHttpDispatcher(deadEndpoints);
      const refused = classifyMicrosoftFailure(await thrown(createTenantGraphClient(tokens, deadEndpoints, dead, { maxRetries: 0, delaySeconds: 1 }).api('/organization').get()));
      assert.deepEqual([refused.category, refused.code], ['network', 'ECONNREFUSED']);
      await dead.close();

      // The token is held, so only the Graph call meets the latency.
      await harness.control('PUT', `/tenants/${tenant.id}/faults`, { latencyMs: 1500 });
      const slowEndpoints = { ...harness.endpoints, requestTimeoutMs: 500 };
      const slow = createHttpDispatcher(slowEndpoints);
      const timedOut = classifyMicrosoftFailure(await thrown(createTenantGraphClient(tokens, slowEndpoints, slow, { maxRetries: 0, delaySeconds: 1 }).api('/organization').get()));
      assert.equal(timedOut.category, 'timeout', `${timedOut.category} ${timedOut.code}`);
      assert.match(timedOut.code, /^UND_ERR_\w*TIMEOUT$/);
      await harness.control('PUT', `/tenants/${tenant.id}/faults`, { latencyMs: 0 });
      await slow.close();
    });
  });

  describe('attributeAccountChange', () => {
    it('names the admin who re-enabled a user, from the audit log', async () => {
      const tenant = await harness.createTenant({ users: 2, userMix: { disabledShare: 1 } });
      const client = harness.clientFor(tenant);
      const [user] = (await readUserChanges(client, null)).users;
      const since = Date.now() - 1000;
      await harness.control('PATCH', `/tenants/${tenant.id}/users/${user?.id}`, { accountEnabled: true, actor: { userPrincipalName: 'helpdesk@customer.example' } });
      const found = await attributeAccountChange(client, user?.id ?? '', true, since);
      assert.deepEqual({ known: found.known, actor: found.known ? found.actor : null }, { known: true, actor: 'helpdesk@customer.example' });
    });

    it('says the actor is unknown and which permission would reveal it, without AuditLog.Read.All', async () => {
      const tenant = await harness.createTenant({ users: 2, app: { roles: ['User.Read.All', 'User.EnableDisableAccount.All'] } });
      const client = harness.clientFor(tenant);
      const [user] = (await readUserChanges(client, null)).users;
      const found = await attributeAccountChange(client, user?.id ?? '', true, Date.now() - 1000);
      assert.equal(found.known, false);
      assert.match(found.known ? '' : found.reason, /AuditLog\.Read\.All/);
    });

    it('says not yet while the audit entry is still being ingested', async () => {
      const tenant = await harness.createTenant({ users: 2, userMix: { disabledShare: 1 } });
      await harness.control('PUT', `/tenants/${tenant.id}/audit`, { delayMs: 600_000 });
      const client = harness.clientFor(tenant);
      const [user] = (await readUserChanges(client, null)).users;
      await harness.control('PATCH', `/tenants/${tenant.id}/users/${user?.id}`, { accountEnabled: true });
      const found = await attributeAccountChange(client, user?.id ?? '', true, Date.now() - 1000);
      assert.equal(found.known, false);
      assert.match(found.known ? '' : found.reason, /not in the audit log yet/);
    });
  });

  describe('probeCredentialHealth', () => {
    const now = Date.now();

    it('reports a healthy tenant: a token, every needed role, nothing missing', async () => {
      const tenant = await harness.createTenant();
      const credential = { kind: 'secret' as const, clientSecret: tenant.app.secret };
      const tokens = harness.tokens(tenant.id, tenant.app.appId, credential);
      const health = await probeCredentialHealth(tokens, harness.graph(tokens), { appId: tenant.app.appId, credential, declaredExpiresAt: null }, now);
      assert.equal(health.canGetToken, true);
      assert.equal(health.failure, null);
      assert.deepEqual(health.missingRoles, []);
      assert.deepEqual(health.missingOptionalRoles, []);
      assert.deepEqual(health.grantedRoles, ['AuditLog.Read.All', 'User.EnableDisableAccount.All', 'User.Read.All', 'User.RevokeSessions.All']);
    });

    it('names the missing roles, and reads the secret expiry from the app registration when allowed', async () => {
      const expires = new Date(Date.now() + 9 * 86_400_000).toISOString();
      const tenant = await harness.createTenant({ app: { roles: ['User.Read.All', 'Application.Read.All'], secretExpiresAt: expires } });
      const credential = { kind: 'secret' as const, clientSecret: tenant.app.secret };
      const tokens = harness.tokens(tenant.id, tenant.app.appId, credential);
      const health = await probeCredentialHealth(tokens, harness.graph(tokens), { appId: tenant.app.appId, credential, declaredExpiresAt: null }, now);
      assert.deepEqual(health.missingRoles, ['User.EnableDisableAccount.All', 'User.RevokeSessions.All']);
      assert.deepEqual(health.missingOptionalRoles, ['AuditLog.Read.All']);
      assert.equal(health.credentialExpiresAt, Date.parse(expires));
    });

    it('explains a wrong secret without repeating it, and keeps the declared expiry', async () => {
      const tenant = await harness.createTenant();
      const credential = { kind: 'secret' as const, clientSecret: 'Wr0ng8Q~secret-value-that-must-not-leak' };
      const tokens = harness.tokens(tenant.id, tenant.app.appId, credential);
      const health = await probeCredentialHealth(tokens, harness.graph(tokens), { appId: tenant.app.appId, credential, declaredExpiresAt: 123 }, now);
      assert.equal(health.canGetToken, false);
      assert.equal(health.failure?.code, 'AADSTS7000215');
      assert.equal(health.credentialExpiresAt, 123);
      assert.ok(!JSON.stringify(health).includes('secret-value-that-must-not-leak'));
    });

    it('flags a token without roles (no admin consent)', async () => {
      const tenant = await harness.createTenant({ app: { consentGranted: false } });
      const credential = { kind: 'secret' as const, clientSecret: tenant.app.secret };
      const tokens = harness.tokens(tenant.id, tenant.app.appId, credential);
      const health = await probeCredentialHealth(tokens, harness.graph(tokens), { appId: tenant.app.appId, credential, declaredExpiresAt: null }, now);
      assert.equal(health.canGetToken, true);
      assert.equal(health.failure?.code, 'NO_ROLES');
      assert.equal(health.missingRoles.length, 3);
    });

    it('takes a certificate\'s expiry from the certificate', async () => {
      const certificate = await createAppCertificate('CN=probe', 20);
      const tenant = await harness.createTenant({ app: { secret: null, certificatePem: certificate.certificatePem } });
      const credential = { kind: 'certificate' as const, ...certificate };
      const tokens = harness.tokens(tenant.id, tenant.app.appId, credential);
      const health = await probeCredentialHealth(tokens, createTenantGraphClient(tokens, harness.endpoints, harness.dispatcher), { appId: tenant.app.appId, credential, declaredExpiresAt: null }, now);
      assert.equal(health.canGetToken, true);
      const days = ((health.credentialExpiresAt ?? 0) - Date.now()) / 86_400_000;
      assert.ok(days > 19 && days < 21, `${days} days`);
    });
  });
});
