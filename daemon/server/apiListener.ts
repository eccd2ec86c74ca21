import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config';
import { AppError } from '../errors/AppError';

/** Where and how the API listens. */
export interface ListenPlan {
  host: string;
  port: number;
  /** PEM certificate (with its chain) and key: HTTPS; null: plain HTTP. */
  tls: { certPem: string; keyPem: string } | null;
  /** The names shared-mode clients use; `Host` headers naming anything else are refused. Empty: any. */
  publicHosts: readonly string[];
}

export type ApiServer = HttpServer | HttpsServer;

/** Local mode: loopback only, plain HTTP, on `--port`. */
export function localListenPlan(config: Pick<Config, 'port'>): ListenPlan {
  return { host: '127.0.0.1', port: config.port, tls: null, publicHosts: [] };
}

/** Shared mode, from settings `loadConfig` already held to the listen rules. */
export async function sharedListenPlan(config: Pick<Config, 'port' | 'listen' | 'tlsCert' | 'tlsKey' | 'publicHost'>): Promise<ListenPlan> {
  const read = async (path: string, flag: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      throw new AppError({ status: 400, code: 'CONFIG_INVALID', message: `Invalid setting ${flag}: cannot read ${path}: ${(error as Error).message}.`, details: { setting: flag } });
    }
  };
  const tls = config.tlsCert !== undefined && config.tlsKey !== undefined ? { certPem: await read(config.tlsCert, '--tls-cert'), keyPem: await read(config.tlsKey, '--tls-key') } : null;
  return { host: config.listen?.host ?? '127.0.0.1', port: config.listen?.port ?? config.port, tls, publicHosts: config.publicHost ?? [] };
}

/** Opens the API's socket as planned and answers the server with the port and URL it really has. */
export async function listenApi(app: RequestListener, plan: ListenPlan): Promise<{ server: ApiServer; port: number; url: string }> {
  let server: ApiServer;
  try {
    server = plan.tls ? createHttpsServer({ cert: plan.tls.certPem, key: plan.tls.keyPem }, app) : createHttpServer(app);
  } catch (error) {
    // A certificate and key that do not parse or do not match: the operator's files, named by setting.
    throw new AppError({
      status: 400,
      code: 'CONFIG_INVALID',
      message: `Invalid setting --tls-cert or --tls-key: the certificate and key cannot be used together (${(error as Error).message}).`,
      details: { setting: '--tls-cert' },
    });
  }
  const where = plan.host.includes(':') ? `[${plan.host}]:${plan.port}` : `${plan.host}:${plan.port}`;
  server.listen(plan.port, plan.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => {
      throw new AppError({ status: 500, code: 'LISTEN_FAILED', message: `Cannot listen on ${where}: ${(error as Error).message}` });
    }),
  ]);
  const port = (server.address() as AddressInfo).port;
  const host = plan.host.includes(':') ? `[${plan.host}]` : plan.host;
  return { server, port, url: `${plan.tls ? 'https' : 'http'}://${host}:${port}` };
}
