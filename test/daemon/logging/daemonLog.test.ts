import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../../daemon/logging/logger';
import { throttleRefusals } from '../../../daemon/logging/refusalThrottle';
import { RotatingLogFile } from '../../../daemon/logging/rotatingLogFile';
import { tempDataDir } from '../../support/tempDataDir';

function refusal(status: number, code: string, operation: string) {
  return { errorId: 'e', code, status, source: 'http', operation };
}

describe('daemon log: rotation by size, and repeated refusals counted', () => {
  it('keeps the log and at most three rotations, each within the bound and 0600', async () => {
    const { dir, cleanup } = await tempDataDir('m365-log-rotation');
    try {
      const path = join(dir, 'daemon.log');
      const file = new RotatingLogFile(path, { maxBytes: 1000, keep: 3 });
      for (let n = 0; n < 500; n++) file.append(`line ${String(n).padStart(4, '0')} ${'x'.repeat(40)}`);
      const names = (await readdir(dir)).sort();
      assert.deepEqual(names, ['daemon.log', 'daemon.log.1', 'daemon.log.2', 'daemon.log.3']);
      for (const name of names) {
        const info = await stat(join(dir, name));
        assert.ok(info.size <= 1000, `${name} is ${info.size} bytes`);
        assert.equal(info.mode & 0o777, 0o600, name);
      }
      const newest = await readFile(path, 'utf8');
      assert.match(newest, /line 0499 /);
      const previous = await readFile(`${path}.1`, 'utf8');
      const lastOfPrevious = Number(/line (\d+) x+\n$/.exec(previous)?.[1]);
      const firstOfNewest = Number(/^line (\d+) /.exec(newest)?.[1]);
      assert.equal(firstOfNewest, lastOfPrevious + 1, 'no line is lost at a rotation');
    } finally {
      await cleanup();
    }
  });

  it('continues an existing log from its size', async () => {
    const { dir, cleanup } = await tempDataDir('m365-log-rotation');
    try {
      const path = join(dir, 'daemon.log');
      new RotatingLogFile(path, { maxBytes: 100 }).append('a'.repeat(80));
      new RotatingLogFile(path, { maxBytes: 100 }).append('b'.repeat(80));
      assert.equal(await readFile(path, 'utf8'), `${'b'.repeat(80)}\n`);
      assert.equal(await readFile(`${path}.1`, 'utf8'), `${'a'.repeat(80)}\n`);
    } finally {
      await cleanup();
    }
  });

  it('logs the first refusal of a kind in a window and reports how many more came, once per window', () => {
    const lines: Array<Record<string, unknown>> = [];
    let now = 1_000_000;
    const logger = throttleRefusals(createLogger({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }), { clock: { now: () => now }, windowMs: 60_000 });
    for (let n = 0; n < 20_000; n++) logger.warn('A valid bearer token is required', refusal(401, 'UNAUTHORIZED', `GET /v1/tenants/${n}`));
    logger.warn('Invalid value for "appId"', refusal(400, 'VALIDATION_FAILED', 'POST /v1/tenants'));
    logger.warn('lock refused by Graph', { code: 'X', status: 403, source: 'action' });
    logger.info('not a refusal', { source: 'http', status: 401 });
    assert.equal(lines.length, 4, 'one line per kind, and everything else as it was');
    now += 60_000;
    logger.warn('A valid bearer token is required', refusal(401, 'UNAUTHORIZED', 'GET /v1/tenants'));
    const summary = lines.find((line) => String(line.msg).startsWith('refused'));
    assert.equal(summary?.msg, 'refused 19,999 more requests like this in the last 60 s');
    assert.equal(summary?.refusedMore, 19_999);
    assert.equal(summary?.code, 'UNAUTHORIZED');
    assert.equal(lines.length, 6, 'the summary, then the first refusal of the new window');
    assert.equal(lines.filter((line) => String(line.msg).startsWith('refused')).length, 1, 'a kind refused once reports no count');
    logger.warn('A valid bearer token is required', refusal(401, 'UNAUTHORIZED', 'GET /v1/tenants'));
    now += 5_000;
    logger.flush();
    assert.equal(lines.at(-1)?.msg, 'refused 1 more request like this in the last 5 s');
  });

  it('bounds the kinds it tracks, so varied refusals cannot grow its memory', () => {
    const lines: string[] = [];
    const logger = throttleRefusals(createLogger({ write: (line) => lines.push(line) }), { clock: { now: () => 0 }, maxKinds: 8 });
    for (let n = 0; n < 1000; n++) logger.warn('no route', refusal(404, 'NOT_FOUND', `GET /v${n}/x`));
    assert.equal(lines.length, 9, 'eight kinds and one shared count');
    logger.flush();
    assert.match(lines.at(-1) ?? '', /refused 991 more requests like this/);
  });
});
