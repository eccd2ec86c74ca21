import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchDaemon } from './benchDaemon';
import { directoryBytes } from './procStats';

export interface WindowCost {
  seconds: number;
  cpuMs: number;
  /** write(2) bytes (wchar) of the daemon process. */
  wchar: number;
  /** Bytes sent towards the disk (write_bytes). */
  writeBytes: number;
  /** How much the data directory grew (negative when it shrank). */
  dirGrowth: number;
}

/**
 * What the daemon spends over `seconds` during which `during` runs (nothing, for a quiet window). The
 * bench sends the daemon nothing else meanwhile, so the CPU and writes are the poller's own.
 */
export async function measureWindow(daemon: BenchDaemon, seconds: number, during: () => Promise<void> = async () => undefined): Promise<WindowCost> {
  const dir = daemon.options.dataDir;
  const [before, sizeBefore] = [await daemon.stats(), await directoryBytes(dir)];
  const started = Date.now();
  await during();
  await sleep(Math.max(0, seconds * 1000 - (Date.now() - started)));
  const [after, sizeAfter] = [await daemon.stats(), await directoryBytes(dir)];
  return {
    seconds: (Date.now() - started) / 1000,
    cpuMs: after.cpuMs - before.cpuMs,
    wchar: after.wchar - before.wchar,
    writeBytes: after.writeBytes - before.writeBytes,
    dirGrowth: sizeAfter - sizeBefore,
  };
}
