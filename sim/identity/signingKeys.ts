import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { exportJWK, type JWK } from 'jose';

/** The key the simulated identity platform signs access tokens with, published at `jwks_uri`. */
export class SigningKeys {
  readonly kid = randomBytes(16).toString('base64url');
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor() {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    const jwk = await exportJWK(this.publicKey);
    return { keys: [{ ...jwk, kid: this.kid, use: 'sig', kty: 'RSA', alg: 'RS256' }] };
  }
}
