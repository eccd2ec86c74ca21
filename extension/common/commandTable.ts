import type { EngineerRole } from '../../protocol/daemonApi';

/**
 * The role below which a command is refused before it asks anything, as the daemon would refuse its
 * requests; `doing` begins the refusal: "Adding a tenant needs the admin role; …".
 */
export interface RoleNeed {
  readonly role: EngineerRole;
  readonly doing: string;
  /** About every customer of the deployment (app profiles, onboarding): refused to an engineer restricted to some tenants. */
  readonly everyTenant?: boolean;
}

/** What a command is to the operator: its id, title and icon, as package.json must declare it. */
export interface CommandSpec {
  readonly id: string;
  readonly title: string;
  readonly icon?: string;
  /** False for commands that only make sense from a tree row or a link (hidden from the palette). */
  readonly palette: boolean;
  /** Absent for what any engineer may do (read, refresh, re-check, the local daemon's own commands). */
  readonly needs?: RoleNeed;
}

export const COMMAND_CATEGORY = 'M365';

/**
 * Every command of the extension. package.json declares exactly these (a test checks both ways), and
 * `registerCommands` needs a handler for each key, so none can be declared and forgotten or registered
 * and undeclared.
 */
export const COMMANDS = {
  refreshTenant: { id: 'm365Status.refreshTenant', title: 'Refresh Tenant', icon: '$(refresh)', palette: true },
  refreshStaleTenants: { id: 'm365Status.refreshStaleTenants', title: 'Refresh All Stale Tenants', icon: '$(refresh)', palette: true },
  lockUser: { id: 'm365Status.lockUser', title: 'Lock User', icon: '$(lock)', palette: true, needs: { role: 'operator', doing: 'Locking a user' } },
  unlockUser: { id: 'm365Status.unlockUser', title: 'Unlock User', icon: '$(unlock)', palette: true, needs: { role: 'operator', doing: 'Unlocking a user' } },
  addTenant: { id: 'm365Status.addTenant', title: 'Add Tenant', icon: '$(add)', palette: true, needs: { role: 'admin', doing: 'Adding a tenant' } },
  addTenantsFromFile: {
    id: 'm365Status.addTenantsFromFile',
    title: 'Add Tenants from File…',
    icon: '$(cloud-upload)',
    palette: true,
    needs: { role: 'admin', doing: 'Adding tenants from a file', everyTenant: true },
  },
  addAppProfile: { id: 'm365Status.addAppProfile', title: 'Add App Profile…', icon: '$(add)', palette: true, needs: { role: 'admin', doing: 'Adding an app profile', everyTenant: true } },
  discoverCustomers: {
    id: 'm365Status.discoverCustomers',
    title: 'Discover Customers…',
    icon: '$(search)',
    palette: true,
    needs: { role: 'admin', doing: 'Discovering customers', everyTenant: true },
  },
  getConsentLink: {
    id: 'm365Status.getConsentLink',
    title: 'Get Admin-Consent Link…',
    icon: '$(link)',
    palette: true,
    needs: { role: 'admin', doing: 'Getting an admin-consent link', everyTenant: true },
  },
  rotateAppProfileCredentials: {
    id: 'm365Status.rotateAppProfileCredentials',
    title: 'Rotate App Profile Credentials…',
    icon: '$(key)',
    palette: true,
    needs: { role: 'admin', doing: "Rotating an app profile's credentials", everyTenant: true },
  },
  rotateCredentials: {
    id: 'm365Status.rotateCredentials',
    title: 'Rotate Credentials',
    icon: '$(key)',
    palette: true,
    needs: { role: 'admin', doing: "Rotating a tenant's credentials" },
  },
  removeTenant: { id: 'm365Status.removeTenant', title: 'Remove Tenant', icon: '$(trash)', palette: true, needs: { role: 'admin', doing: 'Removing a tenant' } },
  recheckCredentialHealth: { id: 'm365Status.recheckCredentialHealth', title: 'Re-check Credential Health', icon: '$(shield)', palette: true },
  showCredentialHealth: { id: 'm365Status.showCredentialHealth', title: 'Show Credential Health', icon: '$(verified)', palette: true },
  showSystemLog: { id: 'm365Status.showSystemLog', title: 'Show System Log', icon: '$(output)', palette: true },
  startDaemon: { id: 'm365Status.startDaemon', title: 'Start Daemon', icon: '$(play)', palette: true },
  stopDaemon: { id: 'm365Status.stopDaemon', title: 'Stop Daemon', icon: '$(debug-stop)', palette: true },
  restartDaemon: { id: 'm365Status.restartDaemon', title: 'Restart Daemon', icon: '$(debug-restart)', palette: true },
  toggleAutomatedTasks: { id: 'm365Status.toggleAutomatedTasks', title: 'Toggle Display of Automated Tasks', icon: '$(eye)', palette: true },
  reload: { id: 'm365Status.reload', title: 'Reload from Daemon', icon: '$(sync)', palette: true },
  showExtensionLog: { id: 'm365Status.showExtensionLog', title: 'Show Extension Log', palette: true },
  loadMoreUsers: { id: 'm365Status.loadMoreUsers', title: 'Load More Users', palette: false },
  signInToSharedDeployment: { id: 'm365Status.signInToSharedDeployment', title: 'Sign In to Shared Deployment…', icon: '$(account)', palette: true },
  signOutOfSharedDeployment: { id: 'm365Status.signOutOfSharedDeployment', title: 'Sign Out of Shared Deployment', icon: '$(sign-out)', palette: true },
} as const satisfies Record<string, CommandSpec>;

export type CommandKey = keyof typeof COMMANDS;
export type CommandId = (typeof COMMANDS)[CommandKey]['id'];
