import assert from 'node:assert/strict';
import { sharedDeploymentUrl } from '../../../extension/client/sharedDeploymentUrl';
import { sharedToken } from '../../../extension/client/sharedToken';
import { readExtensionSettings } from '../../../extension/common/extensionSettings';

describe('extension: what an engineer types to sign in to a shared deployment', () => {
  it('takes an https URL, or http on this machine only, reduced to its origin', () => {
    assert.equal(sharedDeploymentUrl(' https://m365.example.net:8443/ '), 'https://m365.example.net:8443');
    assert.equal(sharedDeploymentUrl('http://127.0.0.1:7070'), 'http://127.0.0.1:7070');
    assert.equal(sharedDeploymentUrl('http://localhost:7070'), 'http://localhost:7070');
    assert.equal(sharedDeploymentUrl('http://[::1]:7070'), 'http://[::1]:7070');
  });

  it('refuses what would send the token in the clear or to the wrong place, saying why', () => {
    assert.throws(() => sharedDeploymentUrl(''), /Enter the shared deployment's URL/);
    assert.throws(() => sharedDeploymentUrl('m365.example.net'), /is not a URL/);
    assert.throws(() => sharedDeploymentUrl('http://m365.example.net:8443'), /must be reached with https:\/\/ so the token is not sent in the clear/);
    assert.throws(() => sharedDeploymentUrl('ftp://m365.example.net'), /must start with https:\/\//);
    assert.throws(() => sharedDeploymentUrl('https://alice:secret@m365.example.net'), /Leave the user name and password out/);
    assert.throws(() => sharedDeploymentUrl('https://m365.example.net/v1/tenants'), /without a path or query/);
  });

  it('takes a token as pasted, trimmed, and refuses one with blanks inside without echoing it', () => {
    assert.equal(sharedToken('  m365s_abc123\n'), 'm365s_abc123');
    assert.throws(() => sharedToken('   '), /Paste the token an admin gave you/);
    const error = (() => {
      try {
        sharedToken('m365s_abc 123');
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    assert.match(error?.message ?? '', /no spaces, line breaks or control characters/);
    assert.ok(!error?.message.includes('abc'), 'the token is not repeated');
    assert.throws(() => sharedToken(`m365s_${'a'.repeat(5000)}`), /longer than any token/);
  });

  it('reads the shared settings, empty meaning local mode', () => {
    const local = readExtensionSettings(() => undefined);
    assert.deepEqual(local.shared, { url: '', caFile: '' });
    const values: Record<string, unknown> = { 'shared.url': ' https://m365.example.net:8443 ', 'shared.caFile': '/etc/team-ca.pem' };
    assert.deepEqual(readExtensionSettings((key) => values[key]).shared, { url: 'https://m365.example.net:8443', caFile: '/etc/team-ca.pem' });
  });
});
