import { Router } from 'express';
import type { DaemonServices } from '../daemonServices';

const heartbeatMs = 15_000;

/**
 * `GET /v1/events`: Server-Sent Events, one JSON `DaemonEvent` per message, so clients follow changes
 * instead of polling. A comment line every 15 s keeps proxies and idle timeouts from closing it.
 */
export function eventRoutes(services: DaemonServices, track: (close: () => void) => () => void): Router {
  const router = Router();
  router.get('/events', (request, response) => {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write(`event: hello\ndata: ${JSON.stringify({ version: services.version })}\n\n`);
    const unsubscribe = services.events.subscribe((event) => {
      response.write(`data: ${JSON.stringify(event)}\n\n`);
    });
    const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), heartbeatMs);
    const untrack = track(() => response.end());
    request.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      untrack();
    });
  });
  return router;
}
