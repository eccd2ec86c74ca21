import assert from 'node:assert/strict';
import { parseDaemonEvent } from '../../../extension/client/parseDaemonEvent';
import { defaultBackoff, reconnectBackoff } from '../../../extension/client/reconnectBackoff';
import { SseParser } from '../../../extension/client/sseParser';

describe('extension daemon client: the event stream format', () => {
  it('splits messages on blank lines, with event names, joined data lines and ids', () => {
    const parser = new SseParser();
    const messages = parser.feed('event: hello\ndata: {"version":"1"}\n\ndata: a\ndata: b\nid: 7\n\n');
    assert.deepEqual(messages, [
      { event: 'hello', data: '{"version":"1"}', id: undefined },
      { event: 'message', data: 'a\nb', id: '7' },
    ]);
  });

  it('reassembles messages cut anywhere between chunks, with CRLF or CR line ends', () => {
    const text = 'data: {"type":"tenant-removed","tenantId":"t1"}\r\n\r\n: keep-alive\r\rdata: x\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const parser = new SseParser();
      const messages = [...parser.feed(text.slice(0, cut)), ...parser.feed(text.slice(cut))];
      assert.deepEqual(
        messages.map((message) => message.data),
        ['{"type":"tenant-removed","tenantId":"t1"}', 'x'],
        `cut at ${cut}`,
      );
    }
  });

  it('reassembles a large event delivered in many chunks, with its id', () => {
    const data = JSON.stringify({ type: 'users', tenantId: 't', users: Array.from({ length: 5_000 }, (_, n) => ({ id: `user-${n}` })), removedUserIds: [] });
    const text = `id: abcdef012345-7\ndata: ${data}\n\n`;
    const parser = new SseParser();
    const messages = [];
    for (let offset = 0; offset < text.length; offset += 1_000) messages.push(...parser.feed(text.slice(offset, offset + 1_000)));
    assert.deepEqual(messages, [{ event: 'message', data, id: 'abcdef012345-7' }]);
  });

  it('skips comments (heartbeats) and messages without data', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.feed(': keep-alive\n\nevent: ping\n\n'), []);
  });

  it('reads the daemon events it knows and ignores the rest', () => {
    assert.deepEqual(parseDaemonEvent('{"type":"tenant-removed","tenantId":"t1"}'), { type: 'tenant-removed', tenantId: 't1' });
    assert.ok(parseDaemonEvent('{"type":"users","tenantId":"t","users":[],"removedUserIds":[]}'));
    assert.deepEqual(parseDaemonEvent('{"type":"users-reloaded","tenantId":"t1"}'), { type: 'users-reloaded', tenantId: 't1' });
    assert.equal(parseDaemonEvent('{"type":"users-reloaded"}'), undefined, 'a users-reloaded event without its tenant');
    assert.equal(parseDaemonEvent('{"type":"tenant"}'), undefined, 'a tenant event without its tenant');
    assert.equal(parseDaemonEvent('{"type":"something-new","x":1}'), undefined);
    assert.equal(parseDaemonEvent('{"type":"__proto__"}'), undefined);
    assert.equal(parseDaemonEvent('not json'), undefined);
  });

  it('waits longer after each failed reconnect, up to a ceiling, spread by chance', () => {
    const low = (attempt: number) => reconnectBackoff(attempt, () => 0);
    const high = (attempt: number) => reconnectBackoff(attempt, () => 1);
    assert.deepEqual([0, 1, 2, 3].map(low), [250, 500, 1000, 2000]);
    assert.deepEqual([0, 1, 2, 3].map(high), [500, 1000, 2000, 4000]);
    assert.equal(high(40), defaultBackoff.maxMs);
    assert.equal(low(40), defaultBackoff.maxMs / 2);
  });
});
