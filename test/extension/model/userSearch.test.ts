import assert from 'node:assert/strict';
import { LIMITS, userListQuerySchema } from '../../../protocol/daemonApi';
import { searchTextProblem } from '../../../extension/model/userSearch';

describe('extension model: user search text', () => {
  it('takes search text up to the length the daemon accepts, and names the bound past it', () => {
    const longest = 'a'.repeat(LIMITS.searchTextMaxLength);
    assert.equal(searchTextProblem(longest), undefined);
    assert.ok(userListQuerySchema.safeParse({ text: longest }).success, 'the daemon takes the longest text the extension sends');
    const problem = searchTextProblem(`${longest}a`);
    assert.match(problem ?? '', new RegExp(`at most ${LIMITS.searchTextMaxLength} characters`));
    assert.ok(!userListQuerySchema.safeParse({ text: `${longest}a` }).success, 'the daemon refuses what the extension holds back');
  });
});
