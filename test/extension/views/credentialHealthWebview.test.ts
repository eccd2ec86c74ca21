import assert from 'node:assert/strict';
import { credentialHealthCsp, credentialHealthHtml } from '../../../extension/views/credentialHealthHtml';
import { parsePageMessage } from '../../../webview/credentialHealthProtocol';
import { rotateOffered } from '../../../webview/rotateOffered';

describe('credential-health webview: messages and page shell', () => {
  it('accepts the messages of the protocol', () => {
    assert.deepEqual(parsePageMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parsePageMessage({ type: 'request', requestId: 3, request: { kind: 'recheck', tenantId: 't-1' } }), {
      type: 'request',
      requestId: 3,
      request: { kind: 'recheck', tenantId: 't-1' },
    });
    assert.ok(parsePageMessage({ type: 'request', requestId: 4, request: { kind: 'recheckAll' } }));
    assert.ok(parsePageMessage({ type: 'request', requestId: 5, request: { kind: 'rotate', tenantId: 't-1' } }));
  });

  it('refuses anything else: unknown types and kinds, extra fields, bad ids, missing tenant', () => {
    const refused: unknown[] = [
      null,
      'ready',
      { type: 'hello' },
      { type: 'ready', token: 'x' },
      { type: 'request', requestId: -1, request: { kind: 'recheckAll' } },
      { type: 'request', requestId: 1.5, request: { kind: 'recheckAll' } },
      { type: 'request', requestId: '1', request: { kind: 'recheckAll' } },
      { type: 'request', requestId: 1, request: { kind: 'lock', tenantId: 't' } },
      { type: 'request', requestId: 1, request: { kind: 'recheck' } },
      { type: 'request', requestId: 1, request: { kind: 'recheck', tenantId: '' } },
      { type: 'request', requestId: 1, request: { kind: 'recheck', tenantId: 'x'.repeat(65) } },
      { type: 'request', requestId: 1, request: { kind: 'rotate', tenantId: 't', clientSecret: 's' } },
      { type: 'request', requestId: 1, request: { kind: 'recheckAll' }, command: 'm365Status.stopDaemon' },
    ];
    for (const message of refused) assert.equal(parsePageMessage(message), undefined, JSON.stringify(message));
  });

  it('offers Rotate buttons only to an admin: not to a reader or an operator, nor while the role is not known', () => {
    assert.equal(rotateOffered('admin'), true);
    for (const role of ['reader', 'operator', null, undefined] as const) assert.equal(rotateOffered(role), false, String(role));
  });

  it("locks the page down: nothing by default, only its own nonce'd script and style", () => {
    const csp = credentialHealthCsp({ cspSource: 'https://file+.vscode-resource.vscode-cdn.net', nonce: 'abc123' });
    assert.match(csp, /^default-src 'none';/);
    assert.match(csp, /script-src 'nonce-abc123'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  });

  it('carries no tenant data and no daemon address or token, and its nonce is the one given', () => {
    const html = credentialHealthHtml({ cspSource: 'vscode-webview://x', nonce: 'n0nce', scriptUri: 'vscode-webview://x/dist/webview/credentialHealth.js' });
    assert.equal((html.match(/nonce="n0nce"/g) ?? []).length, 2, 'the script and the style carry it');
    assert.match(html, /<meta property="csp-nonce" content="n0nce">/, 'for the style element FAST adds');
    assert.doesNotMatch(html, /127\.0\.0\.1|Bearer|token/i);
    assert.match(html, /<script type="module" nonce="n0nce" src="vscode-webview:\/\/x\/dist\/webview\/credentialHealth.js"><\/script>/);
  });

  it('escapes what it writes into attributes', () => {
    const html = credentialHealthHtml({ cspSource: 'x', nonce: '"><script>', scriptUri: 'y' });
    assert.ok(!html.includes('"><script>'));
  });
});
