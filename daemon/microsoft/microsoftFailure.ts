import { GraphError } from '@microsoft/microsoft-graph-client';
import type { SyncFailureCategory } from '../store/storeTypes';

/** A failure talking to Microsoft, classified for status, retry and the words shown to operators. */
export interface MicrosoftFailure {
  category: SyncFailureCategory;
  /** `AADSTS7000215`, Graph's error code, or a network error code. */
  code: string;
  /** What happened, in plain words; never contains a secret. */
  message: string;
  /** What the operator can do about it. */
  remedy: string;
  /** Graph asked us to wait this long before the next call. */
  retryAfterMs: number | null;
  /** Graph no longer knows the delta token: start a full round. */
  resync: boolean;
  /** Where Graph said to start over (410 `Location`). */
  resyncUrl: string | null;
  /** HTTP status, where there was one. */
  status: number | null;
}

const explanations: Record<number, { message: string; remedy: string; category: SyncFailureCategory }> = {
  7000215: {
    category: 'credentials',
    message: 'The client secret is wrong: Microsoft does not recognise it for this app.',
    remedy: "Copy the secret's Value (not its Secret ID) from the app registration's Certificates & secrets page, and rotate the credentials here.",
  },
  7000222: {
    category: 'credentials',
    message: 'The client secret has expired.',
    remedy: 'Create a new client secret in the app registration and rotate the credentials here.',
  },
  700016: {
    category: 'consent',
    message: 'The app is not registered or not consented to in this tenant.',
    remedy: "Check the tenant and application ids; an admin of the customer's tenant must grant admin consent to the app.",
  },
  7000229: {
    category: 'consent',
    message: 'The app has no service principal in this tenant.',
    remedy: "An admin of the customer's tenant must grant admin consent to the app, which creates its service principal.",
  },
  7000112: {
    category: 'consent',
    message: 'The app is disabled in this tenant.',
    remedy: 'Enable the enterprise application in the Entra admin center (Enterprise applications → Properties → Enabled for users to sign in).',
  },
  90002: {
    category: 'credentials',
    message: 'Microsoft does not know this tenant.',
    remedy: 'Check the tenant id or domain; use the directory (tenant) id from the Entra admin center overview.',
  },
  900023: {
    category: 'credentials',
    message: 'The tenant id is neither a GUID nor a domain.',
    remedy: 'Use the directory (tenant) id from the Entra admin center overview, or a verified domain.',
  },
  700027: {
    category: 'credentials',
    message: 'The certificate is not registered on the app, has expired, or the signature does not match.',
    remedy: "Upload the certificate's public part to the app registration (Certificates & secrets) and make sure the private key given here belongs to it.",
  },
  700024: {
    category: 'credentials',
    message: 'The signed client assertion was refused (outside its valid time, or malformed).',
    remedy: "Check this machine's clock, and that the certificate and private key belong together.",
  },
  7000218: {
    category: 'credentials',
    message: 'No secret or certificate was sent.',
    remedy: 'Rotate the credentials here with a client secret or a certificate.',
  },
};

function failure(partial: Partial<MicrosoftFailure> & Pick<MicrosoftFailure, 'category' | 'code' | 'message' | 'remedy'>): MicrosoftFailure {
  return { retryAfterMs: null, resync: false, resyncUrl: null, status: null, ...partial };
}

function aadstsNumber(text: string): number | undefined {
  const match = text.match(/AADSTS(\d+)/);
  return match ? Number(match[1]) : undefined;
}

function retryAfterMs(headers: Headers | undefined): number | null {
  const value = headers?.get('retry-after');
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** OpenSSL's codes for a certificate chain that does not verify, as Node gives them. */
const untrustedCertificatePattern = /^(UNABLE_TO_[A-Z_]+|[A-Z_]*SELF_SIGNED[A-Z_]*|CERT_[A-Z_]+)$/;

/** The code of a socket, TLS or undici error, wherever it sits in the `cause` chain. */
export function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (/^(E[A-Z]+|UND_ERR_[A-Z_]+|ERR_[A-Z_]+)$/.test(code) || untrustedCertificatePattern.test(code))) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Microsoft's certificate chain does not verify with the CAs this machine trusts: most often a proxy that
 * inspects TLS with its own CA, sometimes a clock far off. Retrying will not help, and the credentials
 * are not at fault, so the tenant is not disconnected for it.
 */
function untrustedCertificate(code: string): MicrosoftFailure {
  return failure({
    category: 'network',
    code,
    message: `Microsoft's certificate is not trusted on this machine (${code}).`,
    remedy:
      code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
        ? "Check this machine's date and time; if a proxy inspects TLS on this network, give the daemon its CA certificate with --ca-file (or M365_STATUS_CA_FILE)."
        : "If a proxy inspects TLS on this network, give the daemon its CA certificate with --ca-file (or M365_STATUS_CA_FILE), then restart it.",
  });
}

/**
 * The certificate that answered is valid but issued to another host: DNS or a proxy sent the daemon
 * somewhere other than the host it asked for, or --authority-host / --graph-base-url name a host that
 * serves someone else's certificate. Like an untrusted chain, neither a retry nor new credentials help.
 */
function certificateForAnotherHost(code: string): MicrosoftFailure {
  return failure({
    category: 'network',
    code,
    message: `The certificate that answered for Microsoft is issued to another host (${code}).`,
    remedy:
      "Check --authority-host and --graph-base-url (or M365_STATUS_AUTHORITY_HOST and M365_STATUS_GRAPH_BASE_URL), and this machine's DNS and proxy settings: the certificate must name the host the daemon connects to.",
  });
}

/** A TLS failure that is the certificate's, not the network's, as the operator needs to hear it. */
function certificateFailure(code: string): MicrosoftFailure | undefined {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return certificateForAnotherHost(code);
  if (untrustedCertificatePattern.test(code)) return untrustedCertificate(code);
  return undefined;
}

/**
 * Classifies what msal-node, the Graph client or the network threw. Credentials, consent and permission
 * failures mean the tenant cannot be reached at all (DISCONNECTED); the others are passing.
 */
export function classifyMicrosoftFailure(error: unknown): MicrosoftFailure {
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof GraphError && error.statusCode > 0) {
    const status = error.statusCode;
    const code = error.code ?? `HTTP${status}`;
    if (status === 410 || code === 'syncStateNotFound' || code === 'resyncRequired') {
      return failure({
        category: 'graph',
        code,
        status,
        message: 'Microsoft Graph dropped the delta state; a full user sync follows.',
        remedy: 'Nothing to do: the next sync reads every user again.',
        resync: true,
        resyncUrl: error.headers?.get('location') ?? null,
      });
    }
    if (status === 401) {
      return failure({ category: 'credentials', code, status, message: `Microsoft Graph refused the access token: ${error.message}`, remedy: 'Check the credential health of this tenant and rotate its credentials if they fail.' });
    }
    if (status === 403) {
      return failure({
        category: 'permissions',
        code,
        status,
        message: `Microsoft Graph refused the request: ${error.message}`,
        remedy: 'Grant the app the missing application permissions (see credential health) and grant admin consent.',
      });
    }
    if (status === 429) {
      return failure({ category: 'throttled', code, status, message: 'Microsoft Graph is throttling this tenant.', remedy: 'Nothing to do: the daemon waits as Graph asks.', retryAfterMs: retryAfterMs(error.headers) });
    }
    if (status === 404) {
      return failure({ category: 'graph', code, status, message: 'Microsoft Graph does not know this user any more.', remedy: 'Refresh the tenant: the user may have been deleted.' });
    }
    return failure({
      category: 'graph',
      code,
      status,
      message: `Microsoft Graph answered ${status}: ${error.message}`,
      remedy: status >= 500 ? 'Nothing to do: the daemon retries with backoff.' : 'See the system log for the request.',
      retryAfterMs: retryAfterMs(error.headers),
    });
  }
  // The Graph client wraps a token failure from msal into a GraphError without a status, keeping only
  // msal's message: read the OAuth error and the AADSTS number back out of it.
  const wrappedOAuth = error instanceof GraphError ? /^(\w+): /.exec(text)?.[1] : undefined;
  const errorCode = (error as { errorCode?: unknown }).errorCode ?? (wrappedOAuth && /_/.test(wrappedOAuth) ? wrappedOAuth : undefined);
  if (typeof errorCode === 'string') {
    // msal-node: a ServerError carries the OAuth error and the AADSTS text.
    const number = aadstsNumber(text);
    const known = number === undefined ? undefined : explanations[number];
    if (known) return failure({ ...known, code: `AADSTS${number}` });
    if (errorCode === 'network_timeout' || errorCode === 'network_unreachable') {
      const given = (error as { networkCode?: unknown }).networkCode;
      const code = typeof given === 'string' ? given : errorCode;
      const certificate = certificateFailure(code);
      if (certificate) return certificate;
      return errorCode === 'network_timeout'
        ? failure({ category: 'timeout', code, message: 'The Microsoft identity platform did not answer in time.', remedy: 'Nothing to do: the daemon retries with backoff.' })
        : failure({ category: 'network', code, message: 'The connection to the Microsoft identity platform failed.', remedy: "Check this machine's network; the daemon retries with backoff." });
    }
    if (errorCode === 'endpoints_resolution_error') {
      return failure({ ...(explanations[90002] as (typeof explanations)[number]), code: 'endpoints_resolution_error', message: 'The tenant\'s sign-in endpoints could not be found: the tenant is unknown or the identity platform is unreachable.' });
    }
    if (errorCode === 'temporarily_unavailable' || /AADSTS90033|5\d\d/.test(text)) {
      return failure({ category: 'network', code: number ? `AADSTS${number}` : errorCode, message: 'The Microsoft identity platform is temporarily unavailable.', remedy: 'Nothing to do: the daemon retries.' });
    }
    if (errorCode === 'invalid_client' || errorCode === 'unauthorized_client' || errorCode === 'invalid_tenant') {
      return failure({ category: 'credentials', code: number ? `AADSTS${number}` : errorCode, message: 'Microsoft refused the app\'s credentials.', remedy: 'Check the tenant id, application id and secret or certificate, then rotate the credentials here.' });
    }
    return failure({ category: 'network', code: errorCode, message: `Getting a token failed (${errorCode}).`, remedy: 'See the system log; the daemon retries.' });
  }
  const network = networkCode(error) ?? (error instanceof GraphError ? networkCode(error.body) : undefined);
  const certificate = network === undefined ? undefined : certificateFailure(network);
  if (certificate) return certificate;
  if (network && /TIMEOUT/.test(network)) {
    return failure({ category: 'timeout', code: network, message: 'Microsoft did not answer in time.', remedy: 'Nothing to do: the daemon retries with backoff.' });
  }
  if (network || /fetch failed|socket|ECONN|network/i.test(text)) {
    return failure({ category: 'network', code: network ?? 'NETWORK', message: 'The connection to Microsoft failed.', remedy: 'Check this machine\'s network; the daemon retries with backoff.' });
  }
  if (error instanceof SyntaxError || /JSON/.test(text)) {
    return failure({ category: 'graph', code: 'MALFORMED_RESPONSE', message: 'Microsoft Graph sent an answer that could not be read.', remedy: 'Nothing to do: the daemon retries.' });
  }
  return failure({ category: 'internal', code: 'UNEXPECTED', message: 'An unexpected error occurred talking to Microsoft.', remedy: 'See the system log.' });
}

/** Credentials, consent and permissions: the daemon cannot connect until someone fixes them. */
export function isDisconnecting(category: SyncFailureCategory): boolean {
  return category === 'credentials' || category === 'consent' || category === 'permissions';
}
