import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { badRequest } from './graphFailure';

/**
 * Opaque `$skiptoken` / `$deltatoken` values: state encoded with a MAC, so a client cannot forge or edit
 * one, as with Graph's own tokens. Clients must use links whole.
 */
export class LinkTokens {
  private readonly key = randomBytes(32);

  seal(state: object): string {
    const payload = Buffer.from(JSON.stringify(state)).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  open<T>(token: string): T | undefined {
    const [payload, mac] = token.split('.');
    if (!payload || !mac) return undefined;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as T;
    } catch {
      return undefined;
    }
  }

  /** A page token of this tenant's, or Graph's 400 for one that was forged, edited or is another's. */
  openFor<T extends { tenant: string }>(token: string, tenantId: string): T {
    const state = this.open<T>(token);
    if (!state || state.tenant !== tenantId) throw badRequest('The specified page token value has expired or is not valid.');
    return state;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url').slice(0, 22);
  }
}
