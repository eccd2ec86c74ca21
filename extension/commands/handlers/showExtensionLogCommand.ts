import type { CommandServices } from '../commandServices';

export function showExtensionLogCommand(services: CommandServices): void {
  services.output.show(true);
}
