import type { BenchDaemon } from './benchDaemon';
import type { BenchSim } from './benchSim';
import { untilDirectorySettles } from './procStats';
import { measureWindow, type WindowCost } from './quietWindow';

export interface ChangeCost {
  quiet: WindowCost;
  changed: WindowCost;
  /** wchar of the window with one change less that of the quiet window as long. */
  netWchar: number;
  netWriteBytes: number;
  /** How much more the data directory grew in the window with the change: an append grows it by exactly what it writes. */
  netDirGrowth: number;
  /** The daemon showed the change by the end of its window. */
  seen: boolean;
}

/**
 * What one outside change costs the daemon on disk: a quiet window, then an equally long one in which one
 * user is disabled in the simulator. Neither window talks to the daemon (its API answers and event
 * frames would count in wchar too); the API is asked afterwards whether the change arrived. wchar also
 * counts the daemon's own requests to Graph, so the report reads the data directory's growth and
 * write_bytes instead.
 */
export async function measureChangeCost(
  daemon: BenchDaemon,
  sim: BenchSim,
  tenant: { id: string; simId: string },
  windowSeconds: number,
): Promise<ChangeCost> {
  const user = (await daemon.users(tenant.id, 'state=enabled&limit=1')).users[0];
  if (!user) throw new Error('no enabled user to change');
  // A compaction the first sync started would otherwise land in one window and not the other.
  await untilDirectorySettles(daemon.options.dataDir);
  const quiet = await measureWindow(daemon, windowSeconds);
  const changed = await measureWindow(daemon, windowSeconds, () => sim.setAccountEnabled(tenant.simId, user.id, false));
  const after = await daemon.users(tenant.id, `text=${encodeURIComponent(user.userPrincipalName)}&limit=5`);
  return {
    quiet,
    changed,
    netWchar: changed.wchar - quiet.wchar,
    netWriteBytes: changed.writeBytes - quiet.writeBytes,
    netDirGrowth: changed.dirGrowth - quiet.dirGrowth,
    seen: after.users.some((u) => u.id === user.id && !u.accountEnabled),
  };
}
