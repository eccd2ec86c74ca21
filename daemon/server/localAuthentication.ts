import { timingSafeEqual } from 'node:crypto';
import type { ApiAuthentication } from './apiAuthentication';

/**
 * Local mode: whoever can read `daemon.json` (0600) is the machine's operator and may do everything;
 * activities record the name the extension sends in `X-M365-Operator`, else the daemon's own user.
 */
export function localAuthentication(token: string, defaultOperator: string): ApiAuthentication {
  const expected = Buffer.from(token);
  return {
    mode: 'local',
    refusal: 'A valid bearer token is required: read it from daemon.json in the data directory.',
    authenticate(given, headers) {
      const presented = Buffer.from(given);
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return Promise.resolve(undefined);
      const header = headers['x-m365-operator'];
      const name = typeof header === 'string' ? header.replace(/[^\p{L}\p{N} ._@-]/gu, '').trim().slice(0, 64) : '';
      return Promise.resolve({ name: name || defaultOperator, role: 'admin', tenants: null });
    },
  };
}
