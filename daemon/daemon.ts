import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile, unlink } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { DaemonEndpointFile, SharedDaemonEndpointFile } from '../protocol/daemonApi';
import { daemonContract } from '../protocol/daemonContract';
import { ApiViews } from './api/apiViews';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import type { ErrorSinks } from './errors/handleError';
import { describeTightened, secureDataDir } from './files/dataDirPermissions';
import { writeFileAtomic } from './files/writeFileAtomic';
import { ForegroundRequests } from './foregroundRequests';
import { createDaemonLogger } from './logging/daemonLogger';
import type { Logger } from './logging/logger';
import { DirectoryIdResolver } from './microsoft/directoryIdResolver';
import { connectAhead, createHttpDispatcher, loadFetchClasses, openConnectionsAhead } from './microsoft/httpDispatcher';
import type { MicrosoftEndpoints } from './microsoft/microsoftEndpoints';
import type { ApiAuthentication } from './server/apiAuthentication';
import { listenApi, localListenPlan, sharedListenPlan, type ApiServer, type ListenPlan } from './server/apiListener';
import { loopbackHostRule, publicHostRule } from './server/apiSecurity';
import { createDaemonApp } from './server/daemonApp';
import type { DaemonServices } from './server/daemonServices';
import { localAuthentication } from './server/localAuthentication';
import { warmUpRequestPath } from './server/requestPathWarmUp';
import { engineerAuthentication } from './team/engineerAuthentication';
import { EngineerDirectory } from './team/engineerDirectory';
import { ActivityTimeline } from './services/activityTimeline';
import { AppProfileService } from './services/appProfileService';
import { AppProfileSignIn } from './services/appProfileSignIn';
import { ConsentService } from './services/consentService';
import { CustomerDiscovery } from './services/customerDiscovery';
import { TenantBatch } from './services/tenantBatch';
import { ConsentListener } from './server/consentListener';
import { CredentialHealthService } from './services/credentialHealthService';
import { EventStream } from './services/eventStream';
import type { EventStreamLimits } from './services/eventStream';
import { Poller } from './services/poller';
import { RegisteredTenantLookup } from './services/registeredTenantLookup';
import { SystemLogQuery } from './services/systemLogQuery';
import { TenantConnections } from './services/tenantConnections';
import { TenantQueries } from './services/tenantQueries';
import { TenantRegistry } from './services/tenantRegistry';
import { TenantStatusService } from './services/tenantStatusService';
import { TenantSync } from './services/tenantSync';
import { UserActions } from './services/userActions';
import { openDaemonStore, type DaemonStore } from './store/openDaemonStore';
import type { Store } from './store/store';
import { checkAccountStatusTask } from './tasks/checkAccountStatusTask';
import { RefreshService } from './tasks/refreshService';
import { TASK_KINDS } from './tasks/taskKinds';
import { TaskRunner } from './tasks/taskRunner';
import { updateAdCacheTask } from './tasks/updateAdCacheTask';
import type { CredentialVault } from './vault/credentialVault';
import { openVault } from './vault/openVault';

export const DAEMON_FILE_NAME = daemonContract.files.endpoint;
export const daemonVersion = '0.1.0';

export interface DaemonOptions {
  config: Config;
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
  /** Bounds of the event stream's buffers; the defaults suit production. */
  eventStreamLimits?: Partial<EventStreamLimits>;
  /**
   * How API callers are authenticated. By default the daemon file's token (local mode); shared mode's
   * engineer tokens (`engineerAuthentication`) can be given to run them over the local store.
   */
  authentication?: ApiAuthentication;
  /** Where the API listens; by default 127.0.0.1 on `--port` (local mode). */
  listen?: ListenPlan;
  /** How often an open event stream is kept alive and its caller's token checked again; 15 s by default. */
  eventStreamHeartbeatMs?: number;
}

/** What a daemon is put together from, once its data directory is secured and its store open. */
interface DaemonParts {
  options: DaemonOptions;
  storage: DaemonStore;
  /** This daemon's own: see `ForegroundRequests`. */
  foregroundRequests: ForegroundRequests;
  clock: Clock;
  logger: Logger;
}

/**
 * The daemon: its parts put together in order, and taken apart in the reverse order. Nothing here
 * decides anything; it wires the store, the vault, the Microsoft clients, the services and the API.
 */
export class Daemon {
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly url: string,
    readonly port: number,
    /** The local token, as `daemon.json` holds it; in shared mode it opens nothing and is written nowhere. */
    readonly token: string,
    readonly dataDir: string,
    readonly store: Store,
    /** This daemon's API requests in flight, which its syncs give way to. */
    readonly foregroundRequests: ForegroundRequests,
    private readonly parts: {
      storage: DaemonStore;
      server: ApiServer;
      consentListener: ConsentListener;
      poller: Poller;
      health: CredentialHealthService;
      runner: TaskRunner;
      events: EventStream;
      vault: CredentialVault;
      dispatcher: ReturnType<typeof createHttpDispatcher>;
      logger: Logger;
      shutdownTimeoutMs: number;
      streams: Set<() => void>;
      stopping: AbortController;
    },
  ) {}

  static async start(options: DaemonOptions): Promise<Daemon> {
    const { config } = options;
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? createDaemonLogger(config, { clock });
    const permissions = await secureDataDir(config.dataDir);
    if (permissions.tightened.length > 0) {
      logger.warn('tightened the data directory to its owner alone', { tightened: permissions.tightened.map(describeTightened) });
    } else {
      logger.info('the data directory is private to its owner', { dataDir: config.dataDir, created: permissions.created });
    }
    // This daemon's own, shared by its API, its syncs and its store: a request answered by another daemon
    // in the same process must not hold back this one's syncs.
    const foregroundRequests = new ForegroundRequests();
    const storage = await openDaemonStore(config, { clock, logger, foregroundRequests });
    try {
      return await Daemon.assemble({ options, storage, foregroundRequests, clock, logger });
    } catch (error) {
      await storage.close();
      throw error;
    }
  }

  private static async assemble(parts: DaemonParts): Promise<Daemon> {
    const { options, storage, clock, logger } = parts;
    const vault = await openVault(options.config, storage.database ?? undefined, { logger, now: () => clock.now() });
    try {
      return await Daemon.build({ ...parts, vault });
    } catch (error) {
      await vault.close();
      throw error;
    }
  }

  private static async build(parts: DaemonParts & { vault: CredentialVault }): Promise<Daemon> {
    const { options, storage, vault, foregroundRequests, clock, logger } = parts;
    const { config } = options;
    const { store } = storage;
    const endpoints: MicrosoftEndpoints = {
      authorityHost: config.authorityHost,
      graphHost: new URL(config.graphBaseUrl).origin,
      caPem: config.caFile ? await readFile(config.caFile, 'utf8') : undefined,
      requestTimeoutMs: config.graphTimeoutMs,
    };
    const dispatcher = createHttpDispatcher(endpoints);
    loadFetchClasses();
    const stopping = new AbortController();
    const sinks: ErrorSinks = { logger, systemLog: store, stopping: stopping.signal };
    const views = new ApiViews(store, config, () => clock.now());
    const connections = new TenantConnections(vault, endpoints, dispatcher, config.graphMaxRetries);
    // Every tenant's first round needs a token: asked for while the users load, the identity platform's
    // answers come in that time instead of after it. A shared store loads no users, and its daemons
    // sync only the tenants they come to hold. Without tokens to ask for, the connection is opened ahead
    // for the first registration.
    const tenantsAtStart = storage.database ? [] : await store.listTenants();
    if (tenantsAtStart.length > 0) {
      void connections.prefetchTokens(tenantsAtStart, config.maxConcurrentTenantSyncs, storage.usersLoaded);
      // The first round's syncs connect to Graph: where it is a host of its own, as Microsoft's is, their
      // connections are opened now too.
      if (new URL(endpoints.graphHost).origin !== new URL(endpoints.authorityHost).origin) {
        void openConnectionsAhead(dispatcher, endpoints.graphHost, Math.min(tenantsAtStart.length, config.maxConcurrentTenantSyncs));
      }
    } else {
      void connectAhead(dispatcher, endpoints);
    }
    try {
      await storage.usersLoaded;
    } catch (error) {
      await dispatcher.destroy().catch(() => undefined);
      throw error;
    }
    const status = new TenantStatusService(store, config, clock);
    const sync = new TenantSync(store, connections, status, clock, sinks, foregroundRequests);
    const poller = new Poller({
      store,
      sync,
      status,
      clock,
      sinks: { ...sinks, logger: logger.child({ component: 'poller' }) },
      maxConcurrent: config.maxConcurrentTenantSyncs,
      jitterRatio: config.pollJitterRatio,
      // Time alone moves a tenant to STALE, INACTIVE or DORMANT: look twice per poll interval.
      statusTickMs: Math.min(Math.max(config.pollIntervalMs / 2, 1_000), 60 * 60_000),
      sharedStore: storage.database !== null,
      ...(options.random ? { random: options.random } : {}),
    });
    // With a shared store, each daemon checks the tenants it holds, not every tenant of the deployment.
    const health = new CredentialHealthService(
      store,
      connections,
      status,
      clock,
      { ...sinks, logger: logger.child({ component: 'credential-health' }) },
      storage.database ? { holds: (tenantId) => poller.holds(tenantId) } : undefined,
    );
    const registeredTenants = new RegisteredTenantLookup(store, new DirectoryIdResolver(endpoints, dispatcher));
    const registry = new TenantRegistry(store, vault, connections, health, poller, sync, foregroundRequests, logger, registeredTenants);
    const appProfiles = new AppProfileService(store, vault, connections, health, poller, clock, logger.child({ component: 'app-profiles' }));
    const runner = new TaskRunner({ store, logger, maxConcurrent: config.maxConcurrentTasks, clock });
    runner.register(TASK_KINDS.updateAdCache.kind, updateAdCacheTask(sync));
    runner.register(TASK_KINDS.checkAccountStatus.kind, checkAccountStatusTask(health));
    const events = new EventStream(store, views, {
      logger: logger.child({ component: 'events' }),
      ...(options.eventStreamLimits ? { limits: options.eventStreamLimits } : {}),
    });
    const signIn = new AppProfileSignIn(vault, endpoints, dispatcher);
    const consents = new ConsentService(store, registry, health, events, endpoints.authorityHost, clock, logger.child({ component: 'consent' }), registeredTenants);
    const services: DaemonServices = {
      version: daemonVersion,
      views,
      tenants: new TenantQueries(store),
      registry,
      appProfiles,
      consents,
      customers: new CustomerDiscovery(store, signIn, registeredTenants),
      batch: new TenantBatch(store, appProfiles, signIn, registry, consents, views, registeredTenants),
      actions: new UserActions(store, connections, status, sinks),
      refresh: new RefreshService({ store, clock, dedupWindowMs: config.refreshDedupWindowMs, status }),
      health,
      timeline: new ActivityTimeline(store),
      systemLog: new SystemLogQuery(store),
      events,
      defaultOperator: safeUserName(),
    };

    await registry.reconcile();
    await runner.recoverInterruptedTasks();
    events.start();

    const consentListener = await ConsentListener.start((query) => consents.answer(query), logger.child({ component: 'consent' }));
    consents.listenOn(consentListener.redirectUri);

    const token = randomBytes(32).toString('base64url');
    const streams = new Set<() => void>();
    let port = 0;
    // Shared mode: engineers' own tokens, checked against the shared database, and the configured address.
    const authentication =
      options.authentication ??
      (storage.database ? engineerAuthentication(new EngineerDirectory(storage.database.pool)) : localAuthentication(token, services.defaultOperator));
    const plan = options.listen ?? (storage.database ? await sharedListenPlan(config) : localListenPlan(config));
    const app = createDaemonApp({
      services,
      sinks,
      authentication,
      hosts: authentication.mode === 'shared' ? publicHostRule(plan.publicHosts) : loopbackHostRule(() => port),
      trackStream: (close) => {
        streams.add(close);
        return () => streams.delete(close);
      },
      foregroundRequests,
      ...(options.eventStreamHeartbeatMs === undefined ? {} : { eventStreamHeartbeatMs: options.eventStreamHeartbeatMs }),
    });
    let listening: Awaited<ReturnType<typeof listenApi>>;
    try {
      listening = await listenApi(app, plan);
    } catch (error) {
      await consentListener.stop();
      throw error;
    }
    const { server, url } = listening;
    port = listening.port;
    // A shared deployment's requests carry engineers' own tokens: a local token there would open nothing.
    const endpointFile: DaemonEndpointFile | SharedDaemonEndpointFile =
      authentication.mode === 'shared'
        ? { mode: 'shared', url, port, pid: process.pid, version: daemonVersion }
        : { url, port, pid: process.pid, token, version: daemonVersion };
    await writeFileAtomic(join(config.dataDir, DAEMON_FILE_NAME), `${JSON.stringify(endpointFile, null, 2)}\n`);

    runner.start();
    await poller.start();
    health.start(poller.firstRound);
    // After the first round (at once without tenants), so that a restart's first round does not wait for it.
    void poller.firstRound.then(() => setImmediate(warmUpRequestPath));
    await status.updateAll(storage.database ? (tenantId) => poller.holds(tenantId) : undefined);
    logger.info('daemon started', { url, dataDir: config.dataDir, tenants: (await store.listTenants()).length, pid: process.pid });
    return new Daemon(url, port, token, config.dataDir, store, foregroundRequests, {
      storage,
      server,
      consentListener,
      poller,
      health,
      runner,
      events,
      vault,
      dispatcher,
      logger,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      streams,
      stopping,
    });
  }

  /** Resolves once no sync or task is running (what is due later stays due). */
  async whenIdle(): Promise<void> {
    await this.parts.poller.whenIdle();
    await this.parts.runner.whenIdle();
  }

  /**
   * In order: stop scheduling, stop taking tasks and let running ones finish (or record them as
   * interrupted), let the credential-health check end after the tenant it is checking, end event streams
   * and close the server, wait for the last store write.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const { storage, server, consentListener, poller, health, runner, events, vault, dispatcher, logger, shutdownTimeoutMs, streams, stopping } = this.parts;
    logger.info('daemon stopping');
    stopping.abort();
    // Stopped first, so that the poller's first round ending as it stops does not start the check; waited
    // for alongside the poller and the tasks, within the same bound.
    const checking = health.stop(shutdownTimeoutMs);
    await poller.stop();
    await runner.stop(shutdownTimeoutMs);
    await checking;
    for (const close of streams) close();
    await consentListener.stop();
    const closed = once(server, 'close');
    server.close();
    server.closeIdleConnections();
    await closed;
    events.stop();
    await vault.close();
    await storage.close();
    await dispatcher.close();
    await removeDaemonFile(this.dataDir, this.url);
    logger.info('daemon stopped');
  }
}

/** Removes `daemon.json` only if it is still ours (another daemon may have started since). */
async function removeDaemonFile(dataDir: string, url: string): Promise<void> {
  const path = join(dataDir, DAEMON_FILE_NAME);
  try {
    const current = JSON.parse(await readFile(path, 'utf8')) as Partial<DaemonEndpointFile | SharedDaemonEndpointFile>;
    if (current.pid === process.pid && current.url === url) await unlink(path);
  } catch {
    // Already gone.
  }
}

function safeUserName(): string {
  try {
    return userInfo().username || 'operator';
  } catch {
    return 'operator';
  }
}
