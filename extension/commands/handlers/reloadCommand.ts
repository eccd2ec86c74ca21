import type { CommandServices } from '../commandServices';

/** Reads everything from the daemon again, or reconnects now when it is not connected. */
export async function reloadCommand(services: CommandServices): Promise<void> {
  if (services.model.connection.kind === 'connected') await services.connection.reload();
  else services.connection.retryNow();
}
