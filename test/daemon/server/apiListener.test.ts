import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import type { SessionView } from '../../../protocol/daemonApi';
import { createServerCredentials } from '../../../sim/tls/certificateAuthority';
import { loadConfig, type ConfigOverrides } from '../../../daemon/config';
import { isAppError } from '../../../daemon/errors/AppError';
import { createLogger } from '../../../daemon/logging/logger';
import { sharedListenPlan } from '../../../daemon/server/apiListener';
import { openSharedDatabase, type SharedDatabase } from '../../../daemon/store/postgres/sharedDatabase';
import { engineerAuthentication } from '../../../daemon/team/engineerAuthentication';
import { EngineerDirectory } from '../../../daemon/team/engineerDirectory';
import { spawnTypeScript } from '../../support/childProcess';
import { DaemonHarness } from '../../support/daemonHarness';
import { startPostgres, type PostgresServer } from '../../support/postgresServer';
import { tempDataDir } from '../../support/tempDataDir';

const quiet = createLogger({ write: () => undefined, level: 'error' });
const store = 'postgres://m365@127.0.0.1:5432/team';

function configError(overrides: ConfigOverrides, env: Record<string, string> = {}): { setting: unknown; message: string } {
  try {
    loadConfig({ env, overrides, home: '/tmp' });
  } catch (error) {
    assert.ok(isAppError(error));
    assert.equal(error.code, 'CONFIG_INVALID');
    return { setting: error.details?.setting, message: error.message };
  }
  assert.fail('the settings were accepted');
}

describe('API listen rules: loopback, HTTPS, and TLS ended in front', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let certFile: string;
  let keyFile: string;
  let caPem: string;

  before(async () => {
    ({ dir, cleanup } = await tempDataDir('m365-listen'));
    const credentials = await createServerCredentials();
    caPem = credentials.caPem;
    certFile = join(dir, 'daemon.crt');
    keyFile = join(dir, 'daemon.key');
    await writeFile(certFile, credentials.certPem);
    await writeFile(keyFile, credentials.keyPem, { mode: 0o600 });
  });
  after(async () => cleanup());

  it('refuses a non-loopback address without TLS, naming --listen and the ways out', () => {
    const refused = configError({ store, listen: '0.0.0.0:8443' });
    assert.equal(refused.setting, '--listen');
    assert.match(refused.message, /0\.0\.0\.0 is not a loopback address/);
    assert.match(refused.message, /--tls-cert and --tls-key/);
    assert.match(refused.message, /--tls-terminated-upstream yes/);
    assert.equal(configError({}, { M365_STATUS_STORE: store, M365_STATUS_LISTEN: '[::]:8443' }).setting, 'M365_STATUS_LISTEN');
  });

  it('accepts a non-loopback address with a certificate, or when told TLS ends in front', () => {
    assert.deepEqual(loadConfig({ env: {}, overrides: { store, listen: '0.0.0.0:8443', tlsCert: certFile, tlsKey: keyFile } }).listen, { host: '0.0.0.0', port: 8443 });
    assert.equal(loadConfig({ env: {}, overrides: { store, listen: '10.0.0.5:80', tlsTerminatedUpstream: 'yes' } }).tlsTerminatedUpstream, true);
    assert.equal(loadConfig({ env: {}, overrides: { store, listen: '127.0.0.1:7070' } }).tlsCert, undefined);
  });

  it('refuses half a TLS pair, a missing file and a bad address, naming the setting', () => {
    assert.equal(configError({ store, listen: '0.0.0.0:8443', tlsCert: certFile }).setting, '--tls-key');
    assert.equal(configError({ store, tlsCert: join(dir, 'nothing.crt'), tlsKey: keyFile }).setting, '--tls-cert');
    assert.equal(configError({ store, listen: 'everywhere' }).setting, '--listen');
    assert.equal(configError({ store, tlsTerminatedUpstream: 'perhaps' }).setting, '--tls-terminated-upstream');
  });

  it('keeps the local daemon on loopback: the listen settings are refused without --store', () => {
    const refused = configError({ listen: '0.0.0.0:8443', tlsCert: certFile, tlsKey: keyFile });
    assert.equal(refused.setting, '--listen');
    assert.match(refused.message, /shared mode \(--store\) only: the local daemon listens on 127.0.0.1/);
    assert.equal(configError({ publicHost: 'status.msp.example' }).setting, '--public-host');
  });

  it('stops the daemon process at start with the --listen refusal and exit code 2', async () => {
    const child = spawnTypeScript(new URL('../../../daemon/main.ts', import.meta.url), ['--store', store, '--listen', '0.0.0.0:0', '--data-dir', dir]);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    assert.equal(code, 2);
    assert.match(stderr, /Invalid setting --listen: 0\.0\.0\.0 is not a loopback address/);
  });

  describe('a daemon serving HTTPS', () => {
    let server: PostgresServer;
    let database: SharedDatabase;
    let harness: DaemonHarness;
    let token: string;
    let agent: Agent;

    before(async () => {
      server = await startPostgres();
      database = await openSharedDatabase(await server.createDatabase(), { logger: quiet });
      const directory = new EngineerDirectory(database.pool);
      token = (await directory.add({ name: 'ada', role: 'admin' })).token;
      const shared = loadConfig({ env: {}, overrides: { store, listen: '127.0.0.1:0', tlsCert: certFile, tlsKey: keyFile, publicHost: 'localhost' } });
      harness = await DaemonHarness.start({}, undefined, { authentication: engineerAuthentication(directory), listen: await sharedListenPlan(shared) });
      agent = new Agent({ connect: { ca: caPem } });
    });
    after(async () => {
      await agent?.close();
      await harness?.stop();
      await database?.close();
      await server?.stop();
    });

    it('answers a real HTTPS client that trusts its certificate, and says who is signed in', async () => {
      assert.match(harness.daemon.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const url = harness.daemon.url.replace('127.0.0.1', 'localhost');
      const response = await fetch(`${url}/v1/session`, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200);
      assert.deepEqual(((await response.json()) as SessionView).engineer, { name: 'ada', role: 'admin', tenants: null });
    });

    it('refuses a client that does not trust the certificate, and plain HTTP', async () => {
      await assert.rejects(fetch(`${harness.daemon.url}/v1/health`), /fetch failed/);
      const plain = await new Promise<string>((resolve) => {
        const request = httpRequest({ host: '127.0.0.1', port: harness.daemon.port, path: '/v1/health' }, (response) => resolve(`status ${response.statusCode}`));
        request.on('error', (error) => resolve(`error ${error.message}`));
        request.end();
      });
      assert.doesNotMatch(plain, /status 200/);
    });

    it('refuses a Host that is not one of the public host names', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const request = httpsRequest(
          { host: '127.0.0.1', port: harness.daemon.port, path: '/v1/session', ca: caPem, servername: 'localhost', headers: { host: `evil.example:${harness.daemon.port}`, authorization: `Bearer ${token}` } },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        request.on('error', reject);
        request.end();
      });
      assert.equal(status, 421);
    });
  });
});
