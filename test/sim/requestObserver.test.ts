import assert from 'node:assert/strict';
import type { ObservedRequest } from '../../sim/simServer';
import { SimHarness } from '../support/simHarness';

describe('sim: an observer of answered requests', () => {
  const seen: ObservedRequest[] = [];
  let harness: SimHarness;
  before(async () => {
    harness = await SimHarness.start({ observe: (request) => void seen.push(request) });
  });
  after(async () => harness.stop());

  it('is told of each Graph request with its tenant, status and the token its caller sent, one token per client', async () => {
    const tenant = await harness.createTenant({ users: 3 });
    const first = harness.clientFor(tenant);
    const second = harness.clientFor(tenant);
    const since = Date.now();
    await first.api('/users/delta').select('id,accountEnabled').get();
    await first.api('/users/delta').select('id,accountEnabled').get();
    await second.api('/users/delta').select('id,accountEnabled').get();
    await first.api('/users/00000000-0000-0000-0000-000000000000').get().catch(() => undefined);

    const graph = seen.filter((r) => r.at >= since && r.path.startsWith('/v1.0/'));
    assert.deepEqual(
      graph.map((r) => [r.method, r.path, r.status, r.tenantId]),
      [
        ['GET', '/v1.0/users/delta', 200, tenant.id],
        ['GET', '/v1.0/users/delta', 200, tenant.id],
        ['GET', '/v1.0/users/delta', 200, tenant.id],
        ['GET', '/v1.0/users/00000000-0000-0000-0000-000000000000', 404, tenant.id],
      ],
    );
    const [a1, a2, b] = graph.map((r) => r.authorization);
    assert.match(a1 ?? '', /^Bearer \S+$/);
    assert.equal(a2, a1, 'one client keeps its token');
    assert.notEqual(b, a1, 'another client has a token of its own');
    assert.ok(
      seen.some((r) => r.path === `/${tenant.id}/oauth2/v2.0/token` && r.method === 'POST' && r.status === 200),
      'token requests are observed too',
    );
  });
});
