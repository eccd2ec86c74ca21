import type { ScalePoint } from './benchReport';
import { mib } from './benchReport';
import type { FleetResult } from './fleetPhase';
import type { SingleTenantResult } from './singleTenantPhase';

/**
 * How a figure grows with users, from the first and last fleet points: the exponent b of y ∝ usersᵇ
 * (1 linear, 0 flat).
 */
function growth(name: string, points: ScalePoint[], pick: (p: ScalePoint) => number | null): string {
  const usable = points.filter((p) => {
    const y = pick(p);
    return y !== null && Number.isFinite(y) && y > 0;
  });
  const first = usable[0];
  const last = usable.at(-1);
  if (!first || !last || first === last) return `${name}: needs two fleet points with a positive figure`;
  const exponent = Math.log((pick(last) ?? 0) / (pick(first) ?? 1)) / Math.log(last.users / first.users);
  const shape = exponent < 0.2 ? 'flat' : exponent < 0.8 ? 'sublinear' : exponent <= 1.2 ? 'linear' : 'superlinear';
  return `${name}: ${shape} in users (∝ users^${exponent.toFixed(2)} from ${first.users.toLocaleString('en')} to ${last.users.toLocaleString('en')} users)`;
}

export function scaleCurve(fleet: FleetResult[], single: SingleTenantResult[]): { points: ScalePoint[]; growth: string[] } {
  const fleetPoints: ScalePoint[] = fleet.map((f) => ({
    label: `${f.users.toLocaleString('en')} users (${f.tenants} tenants)`,
    tenants: f.tenants,
    users: f.users,
    syncSeconds: f.syncSeconds,
    peakRssMiB: mib(f.peakRssBytes),
    storeMiB: mib(f.storeBytes),
    bytesPerChange: f.change.netDirGrowth,
  }));
  const singlePoints: ScalePoint[] = single.map((s) => ({
    label: `one ${s.users.toLocaleString('en')}-user tenant`,
    tenants: 1,
    users: s.users,
    syncSeconds: s.syncSeconds,
    peakRssMiB: mib(s.peakRssBytes),
    storeMiB: mib(s.storeBytes),
    bytesPerChange: s.change.netDirGrowth,
  }));
  return {
    points: [...fleetPoints, ...singlePoints],
    growth: [
      growth('sync time', fleetPoints, (p) => p.syncSeconds),
      growth('peak RSS', fleetPoints, (p) => p.peakRssMiB),
      growth('store on disk', fleetPoints, (p) => p.storeMiB),
      growth('bytes written per change (100 tenants)', fleetPoints, (p) => p.bytesPerChange),
      growth('bytes written per change (one tenant)', singlePoints, (p) => p.bytesPerChange),
    ],
  };
}
