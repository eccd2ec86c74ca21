/**
 * The shared deployment cannot be used until the engineer signs in (again): no token is kept for its
 * URL, or the deployment refused the one that is (revoked or mistyped). Retrying would not help.
 */
export class SignInNeededError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SignInNeededError';
  }
}
