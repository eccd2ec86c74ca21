import type { CommandServices } from '../commandServices';

export function showCredentialHealthCommand(services: CommandServices): void {
  services.credentialHealth.show();
}
