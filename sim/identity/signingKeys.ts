import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { exportJWK, jwtVerify, SignJWT, type JWK } from 'jose';

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

  /**
   * Signs and checks one throwaway token: Microsoft's token service is always warm, and the simulator's
   * first token would otherwise carry the first use of the key and of jose (several milliseconds) that no
   * real sign-in sees.
   */
  async warmUp(): Promise<void> {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).sign(this.privateKey);
    await jwtVerify(token, this.publicKey, { algorithms: ['RS256'] });
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    const jwk = await exportJWK(this.publicKey);
    return { keys: [{ ...jwk, kid: this.kid, use: 'sig', kty: 'RSA', alg: 'RS256' }] };
  }
}
