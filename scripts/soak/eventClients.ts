import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';

export interface EventClientsReport {
  neverReading: number;
  slow: number;
  /** Bytes the slow clients managed to read. */
  slowBytesRead: number;
}

/**
 * Event-stream clients that misbehave: some connect and never read a byte (their socket buffers fill and
 * stay full), some read a little at a time. The daemon must go on serving everyone else.
 */
export class EventClients {
  private readonly requests: ClientRequest[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private slowBytes = 0;
  private counts = { neverReading: 0, slow: 0 };

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  open(options: { neverReading: number; slow: number; slowReadIntervalMs?: number }): void {
    for (let i = 0; i < options.neverReading; i++) {
      this.connect((res) => res.pause());
      this.counts.neverReading++;
    }
    for (let i = 0; i < options.slow; i++) {
      this.connect((res) => {
        res.pause();
        const timer = setInterval(() => {
          const chunk = res.read(64) as Buffer | null;
          if (chunk) this.slowBytes += chunk.length;
        }, options.slowReadIntervalMs ?? 1000);
        this.timers.push(timer);
      });
      this.counts.slow++;
    }
  }

  private connect(onResponse: (res: IncomingMessage) => void): void {
    const url = new URL('/v1/events', this.url);
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      agent: false,
      headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
    });
    req.on('response', onResponse);
    req.on('error', () => undefined);
    req.end();
    this.requests.push(req);
  }

  close(): EventClientsReport {
    for (const timer of this.timers) clearInterval(timer);
    for (const req of this.requests) req.destroy();
    return { ...this.counts, slowBytesRead: this.slowBytes };
  }
}
