const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * The address of a shared deployment as the team gives it, reduced to its origin (the API's paths are
 * the client's to add). Plain http is taken only on this machine's loopback: over a network the
 * engineer's token must travel encrypted. Throws an error that says what to type instead.
 */
export function sharedDeploymentUrl(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') throw new Error("Enter the shared deployment's URL, such as https://m365.example.net:8443.");
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new Error(`"${trimmed.slice(0, 80)}" is not a URL; enter one such as https://m365.example.net:8443.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`The URL must start with https:// (or http:// for a daemon on this machine), not ${url.protocol}//.`);
  }
  if (url.username !== '' || url.password !== '') throw new Error('Leave the user name and password out of the URL; the token is asked for on its own.');
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new Error(`http:// is only for a daemon on this machine (127.0.0.1, [::1] or localhost); ${url.hostname} must be reached with https:// so the token is not sent in the clear.`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new Error(`Give only the deployment's address (${url.origin}), without a path or query.`);
  }
  return url.origin;
}
