/**
 * The simulator's sense of time. Tests move it forward to expire tokens, secrets and delta links without
 * waiting; everything in the simulator that depends on time reads it from here.
 */
export class SimClock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  date(): Date {
    return new Date(this.now());
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
