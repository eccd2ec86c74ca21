import { AppError } from '../errors/AppError';

/** A store file that cannot be read as it is: the daemon refuses to start rather than lose what it holds. */
export function storeUnreadable(path: string, problem: string, cause?: unknown): AppError {
  return new AppError({
    status: 500,
    code: 'STORE_UNREADABLE',
    message: `${path} ${problem}, so the daemon will not start rather than lose what it holds. Restore it from a backup, or move it aside to start without it.`,
    details: { file: path },
    ...(cause === undefined ? {} : { cause }),
  });
}
