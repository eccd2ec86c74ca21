import type { SimTenant } from '../directory/simTenant';
import type { SimClock } from '../simClock';
import { GraphFailure } from './graphFailure';

export interface RequestCost {
  resourceUnits: number;
  writes: number;
}

interface Bucket {
  available: number;
  capacity: number;
  updatedAt: number;
}

const windowMs = 10_000;
const writeWindowMs = 150_000;

/** The identity and access service's budget per app per tenant, by tenant size. */
export function resourceUnitLimit(tenant: SimTenant): number {
  if (tenant.throttling.resourceUnitsPer10s !== null) return tenant.throttling.resourceUnitsPer10s;
  if (tenant.liveUserCount < 50) return 3500;
  if (tenant.liveUserCount <= 500) return 5000;
  return 8000;
}

/**
 * Graph's directory throttling: a resource-unit token bucket and a write bucket per app + tenant, refilled
 * continuously. Past the budget a request gets 429 with a fractional `Retry-After`, and near it the
 * response says how close it is.
 */
export class ResourceUnitThrottle {
  private readonly units = new Map<string, Bucket>();
  private readonly writes = new Map<string, Bucket>();

  constructor(private readonly clock: SimClock) {}

  /** Charges the request or throws the 429; answers the headers every response carries. */
  charge(tenant: SimTenant, appId: string, cost: RequestCost): Record<string, string> {
    const headers: Record<string, string> = { 'x-ms-resource-unit': String(cost.resourceUnits) };
    if (!tenant.throttling.enabled) return headers;
    const key = `${appId}/${tenant.id}`;
    const now = this.clock.now();
    const units = this.bucket(this.units, key, resourceUnitLimit(tenant), windowMs, now);
    const writes = this.bucket(this.writes, key, tenant.throttling.writesPer150s ?? 3000, writeWindowMs, now);
    const scope = `Tenant_Application/${cost.writes > 0 ? 'ReadWrite' : 'Read'}/${appId}/${tenant.id}`;
    if (units.available < cost.resourceUnits) {
      throw this.tooMany(units, cost.resourceUnits, windowMs, scope, 'ResourceUnitLimitExceeded');
    }
    if (writes.available < cost.writes) {
      throw this.tooMany(writes, cost.writes, writeWindowMs, scope, 'WriteLimitExceeded');
    }
    units.available -= cost.resourceUnits;
    writes.available -= cost.writes;
    const used = 1 - units.available / units.capacity;
    if (used >= 0.8) headers['x-ms-throttle-limit-percentage'] = used.toFixed(1);
    return headers;
  }

  private bucket(buckets: Map<string, Bucket>, key: string, capacity: number, window: number, now: number): Bucket {
    let bucket = buckets.get(key);
    if (!bucket || bucket.capacity !== capacity) {
      bucket = { available: capacity, capacity, updatedAt: now };
      buckets.set(key, bucket);
    }
    const refill = ((now - bucket.updatedAt) / window) * capacity;
    bucket.available = Math.min(capacity, bucket.available + refill);
    bucket.updatedAt = now;
    return bucket;
  }

  private tooMany(bucket: Bucket, needed: number, window: number, scope: string, reason: string): GraphFailure {
    const seconds = ((needed - bucket.available) / bucket.capacity) * (window / 1000);
    const retryAfter = Math.max(0.001, seconds).toFixed(3);
    return new GraphFailure(
      429,
      'TooManyRequests',
      'Please retry again later.',
      {
        'retry-after': retryAfter,
        'x-ms-throttle-scope': scope,
        'x-ms-throttle-information': reason,
        'x-ms-throttle-limit-percentage': '1.8',
      },
      { code: '429', message: 'Please retry after', status: '429' },
    );
  }
}
