import { Router } from 'express';
import { AppError } from '../../errors/AppError';
import type { DaemonEvent } from '../../../protocol/daemonApi';
import type { EventStreamHello, EventStreamReload } from '../../../protocol/eventStream';
import { eventStreamMessages } from '../../../protocol/eventStream';
import type { EventStreamSubscriber } from '../../services/eventStream';
import type { ApiAuthentication } from '../apiAuthentication';
import { callerOf, type ApiCaller } from '../apiCaller';
import { bearerToken } from '../apiSecurity';
import type { DaemonServices } from '../daemonServices';
import { mayReachTenant, reachableTenantIds } from '../tenantScope';

/** How often an open stream is kept alive, and its caller's token checked again. */
export const EVENT_STREAM_HEARTBEAT_MS = 15_000;
// A client cut off for falling behind gets this long to read the reason before its socket is dropped.
const overflowGraceMs = 5_000;
const maxLastEventIdLength = 64;

export interface EventRoutesOptions {
  /** Keeps open event streams so shutdown can end them. */
  track: (close: () => void) => () => void;
  /** The API's: a stream's token is checked again at each heartbeat. */
  authentication: ApiAuthentication;
  heartbeatMs?: number;
}

/**
 * `GET /v1/events`: Server-Sent Events, one JSON `DaemonEvent` per message with an `id:`, so clients
 * follow changes instead of polling. A client that reconnects with `Last-Event-ID` gets what it missed,
 * or `event: reload`. A comment line every 15 s keeps proxies and idle timeouts from closing it.
 *
 * A stream is authorised once, when it opens, and lasts as long as its client: so at each heartbeat its
 * token is checked again, and the stream ends once the token is refused (revoked, or replaced by a new
 * one) or its engineer's role or tenants have changed. A client that reconnects is then answered as
 * its token now deserves: 401, or the events of its new tenants.
 */
export function eventRoutes(services: DaemonServices, options: EventRoutesOptions): Router {
  const { track, authentication, heartbeatMs = EVENT_STREAM_HEARTBEAT_MS } = options;
  const router = Router();
  const openByCaller = new Map<string, number>();
  router.get('/events', async (request, response) => {
    const caller = callerOf(request);
    const open = openByCaller.get(caller.name) ?? 0;
    const allowed = services.events.limits.streamsPerCaller;
    if (open >= allowed) {
      throw new AppError({
        status: 429,
        code: 'TOO_MANY_STREAMS',
        message: `${caller.name} has ${open} event streams open, as many as one caller may: close one (a window of VS Code holds one) before opening another.`,
        details: { open, allowed },
      });
    }
    openByCaller.set(caller.name, open + 1);
    response.once('close', () => {
      const left = (openByCaller.get(caller.name) ?? 1) - 1;
      if (left > 0) openByCaller.set(caller.name, left);
      else openByCaller.delete(caller.name);
    });
    const admits = await tenantFilter(caller, services);
    const given = request.headers['last-event-id'];
    const lastEventId = typeof given === 'string' && given !== '' ? given.slice(0, maxLastEventIdLength + 1) : undefined;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let overflowTimer: NodeJS.Timeout | undefined;
    // The first keep-alive is due long after the hello below is written.
    const heartbeat = setInterval(() => {
      response.write(': keep-alive\n\n');
      authentication.authenticate(bearerToken(request), request.headers).then(
        (now) => {
          if (!now || !sameAccess(caller, now)) response.end();
        },
        // The directory could not be asked (the database away for a moment): the next heartbeat asks again.
        () => undefined,
      );
    }, heartbeatMs);
    const subscriber: EventStreamSubscriber = {
      get bufferedBytes() {
        return response.writableLength;
      },
      // A frame for a tenant the caller may not see is passed over as if delivered.
      send: (frame) => !admits(frame) || response.write(frame),
      overflow: (frame) => {
        clearInterval(heartbeat);
        response.end(frame);
        overflowTimer = setTimeout(() => response.destroy(), overflowGraceMs);
        overflowTimer.unref();
      },
    };
    const { start, sendReplay, drained, unsubscribe } = services.events.subscribe(subscriber, lastEventId);
    response.on('drain', drained);
    if (start.kind === 'reload') {
      const reload: EventStreamReload = { message: start.message };
      response.write(`event: ${eventStreamMessages.reload}\ndata: ${JSON.stringify(reload)}\n\n`);
    }
    const hello: EventStreamHello = {
      version: services.version,
      runId: services.events.runId,
      resumed: start.kind === 'replay',
      lastEventId: services.events.lastEventId,
    };
    response.write(`event: ${eventStreamMessages.hello}\ndata: ${JSON.stringify(hello)}\n\n`);
    sendReplay();
    const untrack = track(() => response.end());
    response.on('close', () => {
      clearInterval(heartbeat);
      clearTimeout(overflowTimer);
      unsubscribe();
      untrack();
    });
  });
  return router;
}

function sameAccess(before: ApiCaller, now: ApiCaller): boolean {
  return before.role === now.role && JSON.stringify(before.tenants) === JSON.stringify(now.tenants);
}

/**
 * For an engineer restricted to some tenants: whether a frame concerns one of theirs. Tenants registered
 * while the stream is open join the set when their first event (a `tenant` event) names them.
 */
async function tenantFilter(caller: ApiCaller, services: DaemonServices): Promise<(frame: Buffer) => boolean> {
  const reachable = reachableTenantIds(caller, await services.tenants.list());
  if (reachable === null) return () => true;
  return (frame) => {
    const data = /\ndata: (.*)\n/.exec(frame.toString('utf8'))?.[1];
    if (data === undefined) return false;
    const event = JSON.parse(data) as DaemonEvent;
    if (event.type === 'tenant' && mayReachTenant(caller, { id: event.tenant.id, tenantIdOrDomain: event.tenant.tenant })) reachable.add(event.tenant.id);
    const tenantId = eventTenantId(event);
    return tenantId !== null && reachable.has(tenantId);
  };
}

/** The tenant an event is about, or null for one about none (a pending consent, a daemon-wide log entry). */
export function eventTenantId(event: DaemonEvent): string | null {
  switch (event.type) {
    case 'tenant':
      return event.tenant.id;
    case 'tenant-removed':
    case 'users':
    case 'users-reloaded':
      return event.tenantId;
    case 'activity':
      return event.activity.tenantId;
    case 'task':
      return event.task.tenantId;
    case 'log':
      return event.entry.tenantId;
    case 'consent':
      // Pending consents name no tenant yet: a restricted engineer does not follow onboarding.
      return event.consent.tenantId;
  }
}
