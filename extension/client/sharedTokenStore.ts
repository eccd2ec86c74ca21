/** Where secrets are kept: VS Code's SecretStorage has this shape (the OS keychain behind it). */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

/**
 * The engineer's token for each shared deployment, kept only in secret storage and keyed by the
 * deployment's URL, so a token is only ever sent to the deployment that issued it.
 */
export class SharedTokenStore {
  readonly #secrets: SecretStore;

  constructor(secrets: SecretStore) {
    this.#secrets = secrets;
  }

  async get(url: string): Promise<string | undefined> {
    const token = await this.#secrets.get(sharedTokenKey(url));
    return token === undefined || token === '' ? undefined : token;
  }

  async store(url: string, token: string): Promise<void> {
    await this.#secrets.store(sharedTokenKey(url), token);
  }

  async delete(url: string): Promise<void> {
    await this.#secrets.delete(sharedTokenKey(url));
  }
}

export function sharedTokenKey(url: string): string {
  return `shared-deployment-token:${new URL(url).origin}`;
}
