import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const prefix = 'm365s_';
const tokenPattern = /^m365s_[A-Za-z0-9_-]{43}$/;

/** How engineer tokens are made, recognised and kept. */
export const engineerToken = {
  /** Recognisable in a leaked file or a secret scanner's rules, and never confused with the local token. */
  prefix,

  /** A new token: 32 random bytes, base64url, behind the prefix. Shown once, stored only as its hash. */
  issue(): string {
    return `${prefix}${randomBytes(32).toString('base64url')}`;
  },

  /** Whether a string has a token's shape: a cheap refusal before the database is asked. */
  looksValid(value: string): boolean {
    return tokenPattern.test(value);
  },

  /**
   * SHA-256 of the token. The token carries 256 random bits, so a fast unsalted hash is enough: unlike a
   * password, there is nothing to guess from a stolen hash.
   */
  hash(token: string): Buffer {
    return createHash('sha256').update(token, 'utf8').digest();
  },

  sameHash(a: Buffer, b: Buffer): boolean {
    return a.length === b.length && timingSafeEqual(a, b);
  },
} as const;
