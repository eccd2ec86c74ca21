import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { posix, win32 } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig, type Config } from '../../daemon/config';
import { parseDaemonArguments } from '../../daemon/daemonArguments';
import { resolveDataDirectory } from '../../extension/client/daemonEndpoint';
import { daemonLaunchPlan } from '../../extension/client/daemonLaunchPlan';
import { defaultSettings, readExtensionSettings, type ExtensionSettings } from '../../extension/common/extensionSettings';
import { addTenantSchema } from '../../protocol/daemonApi';
import { daemonContract, dataDirectoryRule, resolveDataDirectoryPath } from '../../protocol/daemonContract';

const SECOND = 1000;
const DAY = 86_400_000;
const HOME = '/home/op';
const DAEMON_SCRIPT = '/ext/dist/daemon.cjs';

interface SettingSchema {
  type: string;
  default: unknown;
  minimum?: number;
  maximum?: number;
  markdownDescription: string;
}
const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, SettingSchema> } };
};
function declared(key: string): SettingSchema {
  const setting = packageJson.contributes.configuration.properties[`m365Status.${key}`];
  assert.ok(setting, `package.json declares m365Status.${key}`);
  return setting;
}
function bounds(key: string): { min: number; max: number } {
  const { minimum, maximum } = declared(key);
  assert.ok(minimum !== undefined && maximum !== undefined, `m365Status.${key} has a minimum and a maximum`);
  return { min: minimum, max: maximum };
}

/**
 * What happens when the extension starts the daemon: the extension resolves its data directory and makes
 * its launch plan; the daemon, as a child with that command line and environment, parses its arguments
 * and loads its config. `HOME` in the environment is what the daemon's home directory is.
 */
function launch(settings: ExtensionSettings, baseEnv: Record<string, string | undefined> = {}): { meant: string; config: Config } {
  const env = { PATH: '/usr/bin', HOME, ...baseEnv };
  const meant = resolveDataDirectory(settings.daemon.dataDirectory, env, HOME);
  const plan = daemonLaunchPlan({ settings, dataDirectory: meant, execPath: '/usr/bin/node', daemonScript: DAEMON_SCRIPT, baseEnv: env });
  const [script, ...args] = plan.args;
  assert.equal(script, DAEMON_SCRIPT);
  const { overrides } = parseDaemonArguments(args);
  return { meant, config: loadConfig({ env: plan.env, overrides, home: plan.env.HOME ?? '' }) };
}

const withDataDirectory = (dataDirectory: string): ExtensionSettings => ({ ...defaultSettings, daemon: { ...defaultSettings.daemon, dataDirectory } });

describe('daemon contract: what the extension starts is what the daemon runs', () => {
  it('runs the daemon in the data directory the extension looks in, for ~, relative, absolute and default paths', () => {
    const cases: Array<[setting: string, expected: string]> = [
      ['~', '/home/op'],
      ['~/tenants', '/home/op/tenants'],
      ['m365 data/prod', '/home/op/m365 data/prod'],
      ['./here/../there', '/home/op/there'],
      ['/srv/m365', '/srv/m365'],
      ['  /srv/padded  ', '/srv/padded'],
      ['', '/home/op/.m365-status'],
    ];
    for (const [setting, expected] of cases) {
      const { meant, config } = launch(withDataDirectory(setting));
      assert.equal(meant, expected, `the extension reads ${JSON.stringify(setting)} as ${expected}`);
      assert.equal(config.dataDir, expected, `the daemon started for ${JSON.stringify(setting)} runs in ${expected}`);
    }
  });

  it('takes the data directory from the setting even when the extension inherited other M365_STATUS_DATA_DIR and M365_STATUS_PORT values', () => {
    const settings: ExtensionSettings = { ...defaultSettings, daemon: { ...defaultSettings.daemon, dataDirectory: '~/chosen', port: 47_001 } };
    const { config } = launch(settings, { M365_STATUS_DATA_DIR: '/elsewhere', M365_STATUS_PORT: '9' });
    assert.equal(config.dataDir, '/home/op/chosen');
    assert.equal(config.port, 47_001);
  });

  it('finds a terminal-started daemon through a relative M365_STATUS_DATA_DIR, wherever that daemon was started', () => {
    const env = { M365_STATUS_DATA_DIR: 'm365/relative' };
    // The daemon's working directory is this test's (the repository), not the home directory: the rule must ignore it.
    const terminalDaemon = loadConfig({ env, home: HOME });
    assert.equal(terminalDaemon.dataDir, '/home/op/m365/relative');
    assert.equal(resolveDataDirectory('', env, HOME), terminalDaemon.dataDir, 'the extension with an empty setting looks in the same directory');
    assert.equal(launch(withDataDirectory(''), env).config.dataDir, terminalDaemon.dataDir, 'and a daemon it starts runs there too');
  });

  it('runs the daemon with the port, poll interval and thresholds the extension settings give', () => {
    const settings: ExtensionSettings = {
      ...defaultSettings,
      daemon: { ...defaultSettings.daemon, port: 47_002 },
      polling: { intervalSeconds: 45, staleAfterPolls: 7, inactiveAfterDays: 10, dormantAfterDays: 45 },
    };
    const { config } = launch(settings);
    assert.equal(config.port, 47_002);
    assert.equal(config.pollIntervalMs, 45 * SECOND);
    assert.equal(config.staleAfterPolls, 7);
    assert.equal(config.inactiveAfterMs, 10 * DAY);
    assert.equal(config.dormantAfterMs, 45 * DAY);
  });

  it('runs the daemon with its own defaults when the extension settings are the defaults', () => {
    const { config } = launch(defaultSettings);
    const daemonDefaults = loadConfig({ env: {}, home: HOME });
    for (const name of ['dataDir', 'port', 'pollIntervalMs', 'staleAfterPolls', 'inactiveAfterMs', 'dormantAfterMs'] as const) {
      assert.equal(config[name], daemonDefaults[name], name);
    }
  });

  it('starts a daemon that accepts every value the extension settings allow, at both ends of each range', () => {
    const keys = ['daemon.port', 'polling.intervalSeconds', 'polling.staleAfterPolls', 'polling.inactiveAfterDays', 'polling.dormantAfterDays'];
    for (const key of keys) {
      for (const end of ['min', 'max'] as const) {
        const value = bounds(key)[end];
        const settings = readExtensionSettings((read) => (read === key ? value : undefined));
        let config: Config;
        try {
          config = launch(settings).config;
        } catch (error) {
          assert.fail(`m365Status.${key} = ${value} (its ${end}) starts a daemon that refuses it: ${(error as Error).message}`);
        }
        if (key === 'polling.intervalSeconds') assert.equal(config.pollIntervalMs, value * SECOND);
        if (key === 'daemon.port') assert.equal(config.port, value);
      }
    }
  });
});

describe('daemon contract: one poll-interval range', () => {
  const { min, max } = daemonContract.pollIntervalSeconds;

  it('declares the extension setting with the protocol bounds in package.json, and the extension clamps to them', () => {
    assert.deepEqual(bounds('polling.intervalSeconds'), { min, max });
    assert.equal(readExtensionSettings((key) => (key === 'polling.intervalSeconds' ? min - 1 : undefined)).polling.intervalSeconds, min);
    assert.equal(readExtensionSettings((key) => (key === 'polling.intervalSeconds' ? max + 1 : undefined)).polling.intervalSeconds, max);
  });

  it('keeps every numeric extension setting inside its package.json bounds', () => {
    for (const key of ['daemon.port', 'polling.intervalSeconds', 'polling.staleAfterPolls', 'polling.inactiveAfterDays', 'polling.dormantAfterDays', 'users.pageSize']) {
      const { min, max } = bounds(key);
      const read = (value: number) => readExtensionSettings((asked) => (asked === key ? value : undefined));
      const [section, name] = key.split('.') as [keyof ExtensionSettings, string];
      const valueOf = (settings: ExtensionSettings): unknown => (settings[section] as Record<string, unknown>)[name];
      assert.equal(valueOf(read(min - 1)), min, `${key} below its minimum`);
      assert.equal(valueOf(read(max + 1)), max, `${key} above its maximum`);
      assert.equal(valueOf(defaultSettings), declared(key).default, `${key} default`);
    }
  });

  it('accepts the same range in the API when a tenant is added', () => {
    const request = (pollIntervalSeconds: number) => ({
      tenant: 'contoso.onmicrosoft.com',
      appId: '8d6f3f4e-2b1a-4c5d-9e8f-7a6b5c4d3e2f',
      credential: { kind: 'secret', clientSecret: 'value' },
      pollIntervalSeconds,
    });
    assert.equal(addTenantSchema.safeParse(request(min)).success, true);
    assert.equal(addTenantSchema.safeParse(request(max)).success, true);
    assert.equal(addTenantSchema.safeParse(request(min - 1)).success, false);
    assert.equal(addTenantSchema.safeParse(request(max + 1)).success, false);
  });

  it('accepts the same range in the daemon settings, and names the setting when outside it', () => {
    assert.equal(loadConfig({ env: { M365_STATUS_POLL_INTERVAL: `${min}s` }, home: HOME }).pollIntervalMs, min * SECOND);
    assert.equal(loadConfig({ env: { M365_STATUS_POLL_INTERVAL: `${max}s` }, home: HOME }).pollIntervalMs, max * SECOND);
    assert.throws(() => loadConfig({ env: { M365_STATUS_POLL_INTERVAL: `${min - 1}s` }, home: HOME }), /Invalid setting M365_STATUS_POLL_INTERVAL: must be at least 5s/);
    assert.throws(() => loadConfig({ env: { M365_STATUS_POLL_INTERVAL: `${max + 1}s` }, home: HOME }), /Invalid setting M365_STATUS_POLL_INTERVAL: must be at most 1d/);
  });
});

describe('daemon contract: names and the data directory rule', () => {
  it('resolves ~ and relative paths against the home directory on POSIX and on Windows', () => {
    assert.equal(resolveDataDirectoryPath('~', '/home/op', posix), '/home/op');
    assert.equal(resolveDataDirectoryPath(' ~/a/b ', '/home/op', posix), '/home/op/a/b');
    assert.equal(resolveDataDirectoryPath('a/../b', '/home/op', posix), '/home/op/b');
    assert.equal(resolveDataDirectoryPath('/var/m365', '/home/op', posix), '/var/m365');
    assert.equal(resolveDataDirectoryPath('~user/x', '/home/op', posix), '/home/op/~user/x', 'only the own home directory is ~');
    assert.equal(resolveDataDirectoryPath('~\\m365', 'C:\\Users\\op', win32), 'C:\\Users\\op\\m365');
    assert.equal(resolveDataDirectoryPath('m365', 'C:\\Users\\op', win32), 'C:\\Users\\op\\m365');
    assert.equal(resolveDataDirectoryPath('D:\\m365', 'C:\\Users\\op', win32), 'D:\\m365');
  });

  it('describes the rule and the default in the extension setting and in the daemon --help', async function () {
    this.timeout(60_000);
    const description = declared('daemon.dataDirectory').markdownDescription;
    assert.ok(description.includes(dataDirectoryRule), description);
    assert.ok(description.includes(daemonContract.defaultDataDirectory), description);
    assert.ok(description.includes(daemonContract.settings.dataDirectory.env), description);
    assert.ok(description.includes(daemonContract.files.endpoint), description);
    const daemonMain = fileURLToPath(new URL('../../daemon/main.ts', import.meta.url));
    const { stdout: help } = await promisify(execFile)(process.execPath, ['--import', 'tsx', daemonMain, '--help']);
    assert.ok(help.includes(dataDirectoryRule), help);
    assert.ok(help.includes(`defaults to ${daemonContract.defaultDataDirectory}`), help);
  });

  it('names in each polling setting description the environment variable the launcher sets', () => {
    const pairs: Array<[key: string, env: string]> = [
      ['polling.intervalSeconds', daemonContract.settings.pollInterval.env],
      ['polling.staleAfterPolls', daemonContract.settings.staleAfterPolls.env],
      ['polling.inactiveAfterDays', daemonContract.settings.inactiveAfter.env],
      ['polling.dormantAfterDays', daemonContract.settings.dormantAfter.env],
    ];
    const plan = daemonLaunchPlan({ settings: defaultSettings, dataDirectory: HOME, execPath: 'node', daemonScript: DAEMON_SCRIPT, baseEnv: {} });
    for (const [key, env] of pairs) {
      assert.ok(declared(key).markdownDescription.includes(`\`${env}\``), key);
      assert.ok(plan.env[env], `the launcher sets ${env}`);
    }
  });
});
