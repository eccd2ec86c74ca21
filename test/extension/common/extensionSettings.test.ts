import assert from 'node:assert/strict';
import { readExtensionSettings } from '../../../extension/common/extensionSettings';

describe('extension common: settings', () => {
  it('reads settings with their defaults and bounds', () => {
    const values: Record<string, unknown> = { 'daemon.autoStart': false, 'polling.intervalSeconds': 2, 'users.pageSize': 'lots' };
    const settings = readExtensionSettings((key) => values[key]);
    assert.equal(settings.daemon.autoStart, false);
    assert.equal(settings.polling.intervalSeconds, 5, 'raised to the daemon minimum');
    assert.equal(settings.users.pageSize, 200, 'a wrong type falls back to the default');
  });
});
