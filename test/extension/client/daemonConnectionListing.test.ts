import assert from 'node:assert/strict';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DaemonConnection } from '../../../extension/client/daemonConnection';
import { StatusModel } from '../../../extension/model/statusModel';
import { manualTimers } from '../support/manualTimers';
import { tenantView } from '../support/viewFixtures';

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A daemon whose event stream opens and stays open, and whose tenant listing answers as `tenants` says. */
async function standInDaemon(tenants: (call: number) => { status: number; body: unknown }): Promise<{ server: Server; url: string; tenantCalls: () => number }> {
  let calls = 0;
  const json = (response: ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = request.url ?? '';
    if (path.startsWith('/v1/events')) {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`event: hello\ndata: ${JSON.stringify({ version: '0.1.0', runId: 'abcdef01', resumed: false, lastEventId: null })}\n\n`);
      return;
    }
    if (path === '/v1/health') return json(response, 200, { ok: true, version: '0.1.0' });
    if (path === '/v1/session') return json(response, 200, { mode: 'local', engineer: { name: 'me', role: 'admin', tenants: null } });
    if (path.startsWith('/v1/tasks')) return json(response, 200, { entries: [] });
    if (path === '/v1/tenants') {
      const answer = tenants(++calls);
      return json(response, answer.status, answer.body);
    }
    json(response, 404, { error: { code: 'NOT_FOUND', message: 'no route' } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tenantCalls: () => calls };
}

describe('extension daemon connection: the tenant listing while the event stream is open', () => {
  it('tries a failed listing again after a backoff, and is connected once it answers', async () => {
    const daemon = await standInDaemon((call) =>
      call === 1
        ? { status: 500, body: { error: { code: 'INTERNAL_ERROR', message: 'a passing failure', errorId: 'e1' } } }
        : { status: 200, body: { tenants: [tenantView()] } },
    );
    const timers = manualTimers();
    const model = new StatusModel({ users: { listUsers: () => Promise.reject(new Error('not read here')) } });
    const connection = new DaemonConnection(model, {
      locate: () => Promise.resolve({ mode: 'local', url: daemon.url, token: 't' }),
      includeAutomatedTasks: () => false,
      timers,
      random: () => 0.5,
      backoff: { initialMs: 1000, maxMs: 8000 },
    });
    try {
      await connection.connect();
      await until(() => daemon.tenantCalls() === 1 && model.connection.kind === 'unreachable', 'the first listing to fail');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(daemon.tenantCalls(), 1, 'not again before the backoff');
      timers.advance(1000);
      await until(() => model.connection.kind === 'connected', 'connected after the second listing');
      assert.equal(daemon.tenantCalls(), 2);
      assert.equal(model.tenantsLoaded, true);
      assert.deepEqual(
        model.tenants().map((tenant) => tenant.id),
        ['tenant-1'],
      );
    } finally {
      connection.dispose();
      model.dispose();
      daemon.server.closeAllConnections();
      daemon.server.close();
    }
  });
});
