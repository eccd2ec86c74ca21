import type { CommandKey } from '../common/commandTable';
import type { CommandHandler } from './commandServices';
import { addTenantCommand } from './handlers/addTenantCommand';
import { addTenantsFromFileCommand } from './handlers/addTenantsFromFileCommand';
import { addAppProfileCommand } from './handlers/addAppProfileCommand';
import { discoverCustomersCommand } from './handlers/discoverCustomersCommand';
import { getConsentLinkCommand } from './handlers/getConsentLinkCommand';
import { rotateAppProfileCredentialsCommand } from './handlers/rotateAppProfileCredentialsCommand';
import { loadMoreUsersCommand } from './handlers/loadMoreUsersCommand';
import { lockUserCommand } from './handlers/lockUserCommand';
import { recheckCredentialHealthCommand } from './handlers/recheckCredentialHealthCommand';
import { refreshStaleTenantsCommand } from './handlers/refreshStaleTenantsCommand';
import { refreshTenantCommand } from './handlers/refreshTenantCommand';
import { reloadCommand } from './handlers/reloadCommand';
import { removeTenantCommand } from './handlers/removeTenantCommand';
import { restartDaemonCommand } from './handlers/restartDaemonCommand';
import { rotateCredentialsCommand } from './handlers/rotateCredentialsCommand';
import { showCredentialHealthCommand } from './handlers/showCredentialHealthCommand';
import { showExtensionLogCommand } from './handlers/showExtensionLogCommand';
import { showSystemLogCommand } from './handlers/showSystemLogCommand';
import { signInToSharedDeploymentCommand } from './handlers/signInToSharedDeploymentCommand';
import { signOutOfSharedDeploymentCommand } from './handlers/signOutOfSharedDeploymentCommand';
import { startDaemonCommand } from './handlers/startDaemonCommand';
import { stopDaemonCommand } from './handlers/stopDaemonCommand';
import { toggleAutomatedTasksCommand } from './handlers/toggleAutomatedTasksCommand';
import { unlockUserCommand } from './handlers/unlockUserCommand';

/** The handler of every command in the table; the type makes a missing or extra one a compile error. */
export const commandHandlers: Readonly<Record<CommandKey, CommandHandler>> = {
  refreshTenant: refreshTenantCommand,
  refreshStaleTenants: refreshStaleTenantsCommand,
  lockUser: lockUserCommand,
  unlockUser: unlockUserCommand,
  addTenant: addTenantCommand,
  addTenantsFromFile: addTenantsFromFileCommand,
  addAppProfile: addAppProfileCommand,
  discoverCustomers: discoverCustomersCommand,
  getConsentLink: getConsentLinkCommand,
  rotateAppProfileCredentials: rotateAppProfileCredentialsCommand,
  rotateCredentials: rotateCredentialsCommand,
  removeTenant: removeTenantCommand,
  recheckCredentialHealth: recheckCredentialHealthCommand,
  showCredentialHealth: showCredentialHealthCommand,
  showSystemLog: showSystemLogCommand,
  startDaemon: startDaemonCommand,
  stopDaemon: stopDaemonCommand,
  restartDaemon: restartDaemonCommand,
  toggleAutomatedTasks: toggleAutomatedTasksCommand,
  reload: reloadCommand,
  showExtensionLog: showExtensionLogCommand,
  loadMoreUsers: loadMoreUsersCommand,
  signInToSharedDeployment: signInToSharedDeploymentCommand,
  signOutOfSharedDeployment: signOutOfSharedDeploymentCommand,
};
