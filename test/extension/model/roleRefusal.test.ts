import assert from 'node:assert/strict';
import type { EngineerRole, SessionView } from '../../../protocol/daemonApi';
import { COMMANDS } from '../../../extension/common/commandTable';
import { roleRefusal } from '../../../extension/model/roleRefusal';

const shared = (role: EngineerRole): SessionView => ({ mode: 'shared', engineer: { name: 'bob', role, tenants: null } });

describe('extension model: commands refused for the role before they ask anything', () => {
  it("refuses an admin's command to a reader or an operator, naming the role needed and theirs", () => {
    assert.equal(roleRefusal(COMMANDS.addTenant.needs, shared('reader'), 'shared'), 'Adding a tenant needs the admin role; you are signed in as a reader.');
    assert.equal(
      roleRefusal(COMMANDS.addAppProfile.needs, shared('operator'), 'shared'),
      'Adding an app profile needs the admin role; you are signed in as an operator.',
    );
    assert.equal(roleRefusal(COMMANDS.rotateCredentials.needs, shared('admin'), 'shared'), undefined);
  });

  it('refuses app profiles and onboarding to an admin restricted to some tenants, who still adds and removes tenants one by one', () => {
    const restricted: SessionView = { mode: 'shared', engineer: { name: 'rafa', role: 'admin', tenants: ['contoso.onmicrosoft.com'] } };
    for (const command of [COMMANDS.addTenantsFromFile, COMMANDS.addAppProfile, COMMANDS.discoverCustomers, COMMANDS.getConsentLink, COMMANDS.rotateAppProfileCredentials]) {
      assert.equal(
        roleRefusal(command.needs, restricted, 'shared'),
        `${command.needs?.doing ?? ''} concerns every customer of the deployment, and you are restricted to some tenants: ask an admin who is not.`,
        command.id,
      );
      assert.equal(roleRefusal(command.needs, shared('admin'), 'shared'), undefined, `${command.id} for an admin of every tenant`);
    }
    for (const command of [COMMANDS.addTenant, COMMANDS.removeTenant, COMMANDS.rotateCredentials]) assert.equal(roleRefusal(command.needs, restricted, 'shared'), undefined, command.id);
  });

  it('lets an operator lock and unlock, not a reader', () => {
    assert.equal(roleRefusal(COMMANDS.lockUser.needs, shared('reader'), 'shared'), 'Locking a user needs the operator role; you are signed in as a reader.');
    assert.equal(roleRefusal(COMMANDS.unlockUser.needs, shared('operator'), 'shared'), undefined);
    assert.equal(roleRefusal(COMMANDS.unlockUser.needs, shared('admin'), 'shared'), undefined);
  });

  it("never refuses on one's own local daemon, with or without a session", () => {
    assert.equal(roleRefusal(COMMANDS.removeTenant.needs, { mode: 'local', engineer: { name: 'me', role: 'admin', tenants: null } }, 'local'), undefined);
    assert.equal(roleRefusal(COMMANDS.removeTenant.needs, undefined, 'local'), undefined, 'a daemon from before sessions');
  });

  it("refuses while a shared deployment's session is not read yet, and says how to go on", () => {
    const refusal = roleRefusal(COMMANDS.addTenantsFromFile.needs, undefined, 'shared');
    assert.match(refusal ?? '', /^Adding tenants from a file needs the admin role, .*sign in\.$/);
  });
});
