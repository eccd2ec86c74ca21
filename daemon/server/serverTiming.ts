import type { ServerResponse } from 'node:http';

/**
 * Adds `Server-Timing: daemon;dur=<ms>` to an answer: the daemon's own time, from the request's arrival
 * until its answer's headers, Microsoft's and the disk's share included. What a client measures beyond
 * it is the network's and its own; on a shared deployment, that tells a slow network from a slow daemon.
 * Set when the headers go out, whoever writes them (`writeHead` is also what `end()` calls when nothing
 * wrote them before).
 */
export function reportServerTiming(response: ServerResponse, arrivedAt = performance.now()): void {
  const writeHead = response.writeHead.bind(response);
  response.writeHead = ((...args: Parameters<ServerResponse['writeHead']>) => {
    if (!response.headersSent) response.setHeader('Server-Timing', `daemon;dur=${(performance.now() - arrivedAt).toFixed(1)}`);
    return writeHead(...args);
  }) as ServerResponse['writeHead'];
}
