import assert from 'node:assert/strict';
import { ClientSecretCredential } from '@azure/identity';
import { AzureIdentityAuthenticationProvider } from '@microsoft/kiota-authentication-azure';
import { createGraphServiceClient, GraphRequestAdapter, type GraphServiceClient } from '@microsoft/msgraph-sdk';
import { createUserCollectionResponseFromDiscriminatorValue, type User } from '@microsoft/msgraph-sdk/models/index.js';
import { createODataErrorFromDiscriminatorValue } from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
import '@microsoft/msgraph-sdk-users';
import { createGraphClientFactory, PageIterator } from '@microsoft/msgraph-sdk-core';
import { Agent, fetch as undiciFetch } from 'undici';
import { SimHarness, type CreatedTenant } from '../support/simHarness';

type Tenant = CreatedTenant & { app: { appId: string; secret: string } };

interface SentRequest {
  method: string;
  url: string;
  body: string;
}

interface SdkClient {
  graph: GraphServiceClient;
  adapter: GraphRequestAdapter;
  sent: SentRequest[];
}

/**
 * Microsoft's own Graph SDK and Azure Identity, configured as a customer would point them at a sovereign
 * cloud: the authority host and Graph's base URL moved, the simulator's host allowed for the bearer token,
 * and a fetch that trusts the simulator's CA (and nothing less).
 */
function sdkClient(harness: SimHarness, agent: Agent, tenant: Tenant): SdkClient {
  const credential = new ClientSecretCredential(tenant.id, tenant.app.appId, tenant.app.secret, {
    authorityHost: harness.sim.url,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: harness.sim.caPem },
  });
  const host = new URL(harness.sim.url).hostname;
  const auth = new AzureIdentityAuthenticationProvider(credential, ['https://graph.microsoft.com/.default'], undefined, new Set([host]));
  const sent: SentRequest[] = [];
  const customFetch = async (url: string, init: RequestInit): Promise<Response> => {
    sent.push({ method: init.method ?? 'GET', url, body: typeof init.body === 'string' ? init.body : init.body ? Buffer.from(init.body as ArrayBuffer).toString('utf8') : '' });
    // undici's own fetch, so the CA-trusting dispatcher applies; its Response is the one Node's fetch returns.
    const answer = await undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent });
    return answer as unknown as Response;
  };
  const httpClient = createGraphClientFactory({ graphServiceTargetVersion: 'v1.0', graphServiceLibraryClientVersion: 'sim-test' }, customFetch);
  const adapter = new GraphRequestAdapter(auth, undefined, undefined, httpClient);
  adapter.baseUrl = `${harness.sim.url}/v1.0`;
  return { graph: createGraphServiceClient(adapter), adapter, sent };
}

describe("sim: held to Microsoft's Graph SDK (@microsoft/msgraph-sdk) and Azure Identity", () => {
  let harness: SimHarness;
  let agent: Agent;
  const userCount = 250;

  before(async () => {
    harness = await SimHarness.start();
    agent = new Agent({ connect: { ca: harness.sim.caPem } });
  });
  after(async () => {
    await agent.close();
    await harness.stop();
  });

  const newTenant = () => harness.createTenant({ users: userCount, userMix: { privilegedShare: 0, disabledShare: 0.2, onPremisesShare: 0 } });

  it("pages through every user with the SDK's PageIterator, following the simulator's nextLinks", async () => {
    const tenant = await newTenant();
    const { graph, adapter, sent } = sdkClient(harness, agent, tenant);
    const first = await graph.users.get({ queryParameters: { select: ['id', 'accountEnabled'], top: 100 } });
    assert.ok(first?.odataNextLink, 'the first page links to the next');
    const seen: User[] = [];
    const iterator = new PageIterator<User>(
      adapter,
      { value: first.value ?? [], odataNextLink: first.odataNextLink ?? undefined },
      (user) => {
        seen.push(user);
        return true;
      },
      // The SDK's own factory for this page type; its typings (null links) and PageIterator's (undefined) disagree.
      createUserCollectionResponseFromDiscriminatorValue as never,
      { XXX: createODataErrorFromDiscriminatorValue },
    );
    await iterator.iterate();
    assert.equal(iterator.getPagingState(), 'Complete');
    assert.equal(seen.length, userCount);
    assert.equal(new Set(seen.map((u) => u.id)).size, userCount, 'no user twice');
    assert.ok(seen.every((u) => typeof u.accountEnabled === 'boolean'), 'accountEnabled came for every user');
    assert.equal(sent.filter((r) => r.url.includes('$skiptoken=')).length, 2, 'two next pages fetched');
  });

  it('runs a delta round to its deltaLink, then a follow-up delta answers only an outside change', async () => {
    const tenant = await newTenant();
    const { graph } = sdkClient(harness, agent, tenant);
    const ids = new Set<string>();
    let page = await graph.users.delta.get({ queryParameters: { select: ['id', 'accountEnabled'] } });
    let rounds = 1;
    while (page?.odataNextLink) {
      for (const user of page.value ?? []) ids.add(user.id ?? '');
      page = await graph.users.delta.withUrl(page.odataNextLink).get();
      rounds++;
    }
    for (const user of page?.value ?? []) ids.add(user.id ?? '');
    const deltaLink = page?.odataDeltaLink;
    assert.ok(deltaLink, 'the round ends in a deltaLink');
    assert.equal(ids.size, userCount);
    assert.ok(rounds > 1, 'the initial round came in several pages');

    const [changed] = [...ids];
    const before = await harness.control<{ accountEnabled: boolean }>('GET', `/tenants/${tenant.id}/users/${changed}`);
    await harness.control('PATCH', `/tenants/${tenant.id}/users/${changed}`, { accountEnabled: !before.body.accountEnabled });
    const followUp = await graph.users.delta.withUrl(deltaLink).get();
    assert.deepEqual(
      (followUp?.value ?? []).map((u) => [u.id, u.accountEnabled]),
      [[changed, !before.body.accountEnabled]],
    );
    assert.ok(followUp?.odataDeltaLink, 'the follow-up ends in a new deltaLink');
  });

  it('locks a user with PATCH accountEnabled carrying @odata.type, and revokes their sessions', async () => {
    const tenant = await newTenant();
    const { graph, sent } = sdkClient(harness, agent, tenant);
    const list = await graph.users.get({ queryParameters: { select: ['id', 'accountEnabled'], filter: 'accountEnabled eq true', top: 1 } });
    const id = list?.value?.[0]?.id;
    assert.ok(id);
    await graph.users.byUserId(id).patch({ odataType: '#microsoft.graph.user', accountEnabled: false });
    const patch = sent.find((r) => r.method === 'PATCH');
    assert.deepEqual(JSON.parse(patch?.body ?? '{}'), { '@odata.type': '#microsoft.graph.user', accountEnabled: false }, 'what the SDK sent');
    const inSim = await harness.control<{ accountEnabled: boolean; signInSessionsValidFromDateTime?: string }>('GET', `/tenants/${tenant.id}/users/${id}`);
    assert.equal(inSim.body.accountEnabled, false);
    const read = await graph.users.byUserId(id).get({ queryParameters: { select: ['accountEnabled'] } });
    assert.equal(read?.accountEnabled, false);

    const revoked = await graph.users.byUserId(id).revokeSignInSessions.post();
    assert.equal(revoked?.value, true);
    const counters = await harness.control<{ byOperation: Record<string, number> }>('GET', `/tenants/${tenant.id}/counters`);
    assert.equal(counters.body.byOperation['users.revokeSignInSessions'], 1);
  });

  it("retries a throttled request with the SDK's retry handler, honouring Retry-After, until it succeeds", async () => {
    const tenant = await harness.createTenant({ users: 5 });
    // 5 units per 10 s refill one unit every 2 s: the 6th call is throttled for a second or two.
    await harness.control('PUT', `/tenants/${tenant.id}/throttling`, { resourceUnitsPer10s: 5 });
    const { graph, sent } = sdkClient(harness, agent, tenant);
    for (let i = 0; i < 5; i++) await graph.users.get({ queryParameters: { select: ['id'] } });
    await harness.control('DELETE', `/tenants/${tenant.id}/counters`);
    const started = sent.length;
    const answer = await graph.users.get({ queryParameters: { select: ['id'] } });
    assert.equal(answer?.value?.length, 5, 'the throttled call ended in success');
    const counters = await harness.control<{ throttled: number; graphRequests: number }>('GET', `/tenants/${tenant.id}/counters`);
    assert.ok(counters.body.throttled >= 1, 'the simulator throttled it first');
    assert.equal(sent.length - started, counters.body.graphRequests, 'each try went over the wire');
    assert.ok(sent.length - started >= 2, 'the SDK retried');
    const retried = sent.slice(started);
    assert.ok(retried.every((r) => r.url === retried[0]?.url), 'the same request was retried');
  });
});
