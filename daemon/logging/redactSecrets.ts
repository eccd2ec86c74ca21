const REDACTED = '[redacted]';

// Matched against property names anywhere in a logged value. Certificates are public, private keys are not.
// Anchored at the end so that `secretExpiresAt` or `tokenOk` stay readable while `clientSecret` does not.
const SECRET_KEY =
  /(secret(_?(text|value))?|password|passwd|private_?key(_?pem)?|authorization|access_?token|refresh_?token|id_?token|client_?assertion|bearer|api_?token|^token|^key|^ciphertext)$/i;

const SECRET_TEXT: ReadonlyArray<readonly [RegExp, string]> = [
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, '[redacted private key]'],
  [/\bBearer\s+[A-Za-z0-9\-._~+/]+=*/gi, 'Bearer [redacted]'],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[redacted jwt]'],
  [/\b(client_secret|client_assertion|password)=[^&\s"']+/gi, '$1=[redacted]'],
  [/(\/\/[^/\s:@]+:)[^@\s/]+@/g, '$1[redacted]@'],
];

// Secrets the vault has handed out in this process. A library error message that echoes one (a token
// endpoint reply, a misconfigured URL) is still scrubbed even though nothing about its shape gives it away.
const knownSecrets = new Set<string>();
const MIN_KNOWN_SECRET_LENGTH = 8;

export function rememberSecret(value: string): void {
  if (value.length >= MIN_KNOWN_SECRET_LENGTH) knownSecrets.add(value);
}

export function redactText(text: string): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of SECRET_TEXT) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A copy of `value` safe to write to a log or the system log: secret-named properties replaced, secret-
 * shaped text scrubbed, errors reduced to name, code, message and stack, cycles cut.
 */
export function redactSecrets(value: unknown): unknown {
  return redactValue(value, new WeakSet<object>(), 0);
}

const MAX_DEPTH = 8;

function redactValue(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? value.toString() : typeof value === 'function' ? undefined : value;
  }
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  if (value instanceof Error) return redactError(value, seen, depth);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, seen, depth + 1));
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && item !== null && item !== undefined && item !== '' ? REDACTED : redactValue(item, seen, depth + 1);
  }
  return out;
}

function redactError(error: Error, seen: WeakSet<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: redactText(error.message) };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out['code'] = code;
  if (error.stack) out['stack'] = redactText(error.stack);
  if (error.cause !== undefined) out['cause'] = redactValue(error.cause, seen, depth + 1);
  return out;
}
