import assert from 'node:assert/strict';
import { fetch } from 'undici';
import { SimHarness } from '../support/simHarness';

describe('sim: the control API takes JSON bodies only', () => {
  let harness: SimHarness;
  before(async () => {
    harness = await SimHarness.start();
  });
  after(async () => harness.stop());

  it('refuses a body of another content type with 415 naming application/json, and creates nothing', async () => {
    const before = (await harness.control<{ value: unknown[] }>('GET', '/tenants')).body.value.length;
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const response = await fetch(`${harness.sim.url}/_sim/tenants`, {
        method: 'POST',
        dispatcher: harness.dispatcher,
        headers: type ? { 'content-type': type } : {},
        body: Buffer.from('{"domain":"form.onmicrosoft.com","users":1}'),
      });
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(response.status, 415, String(type));
      assert.equal(body.error.code, 'unsupported_media_type');
      assert.match(body.error.message, /application\/json/);
    }
    assert.equal((await harness.control<{ value: unknown[] }>('GET', '/tenants')).body.value.length, before);
    const json = await harness.control('POST', '/tenants', { domain: 'json.onmicrosoft.com', users: 1 });
    assert.equal(json.status, 201);
  });
});
