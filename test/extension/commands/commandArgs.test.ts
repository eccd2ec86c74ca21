import assert from 'node:assert/strict';
import { commandRunKey, commandTarget } from '../../../extension/commands/commandArgs';

describe('extension commands: what a command was run on', () => {
  it('knows what a command was run on: a tree row, a tenant id, or nothing', () => {
    assert.deepEqual(commandTarget({ kind: 'user', id: 'user/t/u', tenantId: 't', userId: 'u' }), { tenantId: 't', userId: 'u' });
    assert.deepEqual(commandTarget('t'), { tenantId: 't' });
    assert.deepEqual(commandTarget({ taskId: 'x' }), { taskId: 'x' });
    assert.deepEqual(commandTarget(undefined), {});
    assert.equal(commandRunKey('m365Status.lockUser', { tenantId: 't', userId: 'u' }), commandRunKey('m365Status.lockUser', { tenantId: 't', userId: 'u', kind: 'user' }));
    assert.notEqual(commandRunKey('m365Status.lockUser', { tenantId: 't', userId: 'u' }), commandRunKey('m365Status.lockUser', { tenantId: 't', userId: 'v' }));
  });
});
