import assert from 'node:assert/strict';
import type { TenantView } from '../../../protocol/daemonApi';
import { DaemonHarness } from '../../support/daemonHarness';

describe('daemon API: listing tenants while tenants are registered and removed', function () {
  this.timeout(120_000);
  let harness: DaemonHarness;
  before(async () => {
    harness = await DaemonHarness.start({ pollIntervalMs: '5s' });
  });
  after(async () => harness.stop());

  it('answers every GET /v1/tenants with 200 and whole tenants while others come and go', async () => {
    const answers: Array<{ status: number; body: unknown }> = [];
    let churning = true;
    const reader = async (): Promise<void> => {
      while (churning) {
        const answer = await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants');
        answers.push(answer);
      }
    };
    const readers = [reader(), reader(), reader()];
    try {
      for (let i = 0; i < 12; i++) {
        const { id } = await harness.registerTenant({ users: 30 });
        if (i % 2 === 0) assert.equal((await harness.api('DELETE', `/v1/tenants/${id}`)).status, 204);
      }
    } finally {
      churning = false;
      await Promise.all(readers);
    }
    const failures = answers.filter((answer) => answer.status !== 200);
    assert.deepEqual(failures, [], `${failures.length} of ${answers.length} reads failed`);
    assert.ok(answers.length > 50, `only ${answers.length} reads`);
    for (const answer of answers) {
      for (const tenant of (answer.body as { tenants: TenantView[] }).tenants) assert.equal(typeof tenant.counts.total, 'number');
    }
    assert.equal((await harness.api<{ tenants: TenantView[] }>('GET', '/v1/tenants')).body.tenants.length, 6);
  });

  it('answers GET /v1/tenants as UTF-8 JSON with an ETag', async () => {
    const url = `${harness.daemon.url}/v1/tenants`;
    const authorization = `Bearer ${harness.daemon.token}`;
    const answer = await fetch(url, { headers: { authorization } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'application/json; charset=utf-8');
    const body = (await answer.json()) as { tenants: TenantView[] };
    assert.equal(body.tenants.length, 6);
    assert.match(answer.headers.get('etag') ?? '', /^W\/"/);
  });
});
