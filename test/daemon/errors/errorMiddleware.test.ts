import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { AppError } from '../../../daemon/errors/AppError';
import type { ErrorResponseBody } from '../../../daemon/errors/errorMiddleware';
import { errorMiddleware } from '../../../daemon/errors/errorMiddleware';
import { createLogger } from '../../../daemon/logging/logger';

describe('errors: errorMiddleware (real Express over HTTP)', () => {
  let server: Server;
  let base: string;
  const lines: string[] = [];

  before(async () => {
    const app = express();
    app.use(express.json({ limit: '1kb' }));
    app.get('/missing', () => {
      throw AppError.notFound('TENANT_NOT_FOUND', 'No tenant with id t9.', { tenantId: 't9' });
    });
    app.get('/bug', async () => {
      throw new Error('connection string postgres://admin:hunter2@db');
    });
    app.post('/echo', (request, response) => {
      response.json(request.body);
    });
    app.use(errorMiddleware({ logger: createLogger({ write: (line) => lines.push(line) }) }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function call(path: string, init?: RequestInit): Promise<{ status: number; body: ErrorResponseBody }> {
    const response = await fetch(`${base}${path}`, init);
    return { status: response.status, body: (await response.json()) as ErrorResponseBody };
  }

  it('answers an AppError with its status and a JSON body naming the code', async () => {
    const { status, body } = await call('/missing');
    assert.equal(status, 404);
    assert.equal(body.error.code, 'TENANT_NOT_FOUND');
    assert.equal(body.error.message, 'No tenant with id t9.');
    assert.deepEqual(body.error.details, { tenantId: 't9' });
    assert.match(body.error.errorId, /^[0-9a-f-]{36}$/);
  });

  it('answers a bug thrown in an async route with a 500 that reveals nothing of it', async () => {
    const { status, body } = await call('/bug');
    assert.equal(status, 500);
    assert.equal(body.error.code, 'INTERNAL_ERROR');
    assert.doesNotMatch(JSON.stringify(body), /hunter2|postgres/);
    assert.ok(lines.some((line) => line.includes(body.error.errorId)));
    assert.ok(!lines.some((line) => line.includes('hunter2')), 'a password in a URL is redacted from the log too');
  });

  it('answers malformed JSON with 400 INVALID_JSON and an oversized body with 413 BODY_TOO_LARGE', async () => {
    const headers = { 'content-type': 'application/json' };
    const bad = await call('/echo', { method: 'POST', headers, body: '{"appId":' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'INVALID_JSON');
    const large = await call('/echo', { method: 'POST', headers, body: JSON.stringify({ pad: 'x'.repeat(4096) }) });
    assert.equal(large.status, 413);
    assert.equal(large.body.error.code, 'BODY_TOO_LARGE');
  });
});
