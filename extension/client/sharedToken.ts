/** Long enough for any token the daemon issues, short enough that a pasted file is caught. */
const MAX_TOKEN_LENGTH = 4096;

/**
 * An engineer's token as typed or pasted, checked for shape only (whether it counts is the deployment's
 * to say): surrounding blanks dropped. Throws an error naming the problem, never echoing the token.
 */
export function sharedToken(text: string): string {
  const token = text.trim();
  if (token === '') throw new Error('Paste the token an admin gave you (it starts with m365s_).');
  if (token.length > MAX_TOKEN_LENGTH) throw new Error(`That is longer than any token (${token.length.toLocaleString('en-US')} characters); paste the token alone.`);
  if (/[\s\p{Cc}]/u.test(token)) throw new Error('A token has no spaces, line breaks or control characters; paste it alone, on one line.');
  return token;
}
