import { daemonContract } from '../../protocol/daemonContract';
import { join } from 'node:path';
import { systemClock, type Clock } from '../clock';
import type { Config } from '../config';
import { createLogger } from './logger';
import { throttleRefusals, type ThrottledLogger } from './refusalThrottle';
import { RotatingLogFile, type RotatingLogFileOptions } from './rotatingLogFile';

export const DAEMON_LOG_FILE_NAME = daemonContract.files.log;

export interface DaemonLoggerOptions {
  clock?: Clock;
  file?: RotatingLogFileOptions;
  refusalWindowMs?: number;
}

/**
 * Structured lines to stderr and to `daemon.log` in the data directory, which is rotated by size, with
 * repeated refusals of requests counted rather than written one by one, so no caller can fill the disk.
 */
export function createDaemonLogger(config: Pick<Config, 'dataDir' | 'logLevel'>, options: DaemonLoggerOptions = {}): ThrottledLogger {
  const clock = options.clock ?? systemClock;
  const file = new RotatingLogFile(join(config.dataDir, DAEMON_LOG_FILE_NAME), options.file);
  const logger = throttleRefusals(
    createLogger({
      level: config.logLevel,
      clock,
      write: (line) => {
        process.stderr.write(`${line}\n`);
        try {
          file.append(line);
        } catch {
          // The data directory may not exist yet at the very first line; stderr has it.
        }
      },
    }),
    { clock, ...(options.refusalWindowMs === undefined ? {} : { windowMs: options.refusalWindowMs }) },
  );
  // The counts of the last window would otherwise be lost when the daemon stops.
  process.once('exit', () => logger.flush());
  return logger;
}
