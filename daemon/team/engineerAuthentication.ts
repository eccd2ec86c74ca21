import type { ApiAuthentication } from '../server/apiAuthentication';
import type { EngineerDirectory } from './engineerDirectory';

/**
 * Shared mode: every request carries an engineer's own token, checked against the shared database each
 * time. The name activities record is the engineer's; `X-M365-Operator` is not read, since anyone could
 * send any name in it.
 */
export function engineerAuthentication(directory: EngineerDirectory): ApiAuthentication {
  return {
    mode: 'shared',
    refusal: 'A valid engineer token is required: an admin issues one with `m365-status users add`.',
    async authenticate(token) {
      const engineer = await directory.authenticate(token);
      return engineer ? { name: engineer.name, role: engineer.role, tenants: engineer.tenants } : undefined;
    },
  };
}
