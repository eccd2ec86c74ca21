import { commandTarget } from '../commandArgs';
import type { CommandServices } from '../commandServices';

/** The "Load more users…" row (and the retry on a failed read): the tree shows a failure as a row. */
export async function loadMoreUsersCommand(services: CommandServices, arg?: unknown): Promise<void> {
  const { tenantId } = commandTarget(arg);
  if (!tenantId) return;
  await services.model.loadMoreUsers(tenantId).catch((error: unknown) => {
    services.logger.warn(`reading users of ${tenantId} failed: ${error instanceof Error ? error.message : String(error)}`);
  });
}
