import { randomUUID } from 'node:crypto';
import type { SimApp } from '../directory/simApp';
import type { SimDirectory } from '../directory/simDirectory';
import type { SimTenant } from '../directory/simTenant';
import type { SimRequest, SimResponse } from '../http/simExchange';
import type { SimClock } from '../simClock';

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const loopbackHosts = new Set(['localhost', '127.0.0.1']);

interface ConsentRequest {
  segment: string;
  clientId: string;
  scope: string;
  redirectUri: string;
  state: string;
}

/** A failure shown on Microsoft's own error page: nothing is sent to an unverified redirect URI. */
class ConsentPageFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function html(status: number, title: string, body: string): SimResponse {
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-frame-options': 'DENY' },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`,
  };
}

/**
 * Whether `candidate` is one of the app's redirect URIs. As Microsoft does for loopback listeners, an http
 * `localhost` / `127.0.0.1` URI matches a registered one on the same host and path whatever its port.
 */
export function isRegisteredRedirectUri(app: SimApp, candidate: string): boolean {
  if (app.redirectUris.includes(candidate)) return true;
  const given = parseUrl(candidate);
  if (!given) return false;
  if (given.protocol !== 'http:' || !loopbackHosts.has(given.hostname)) return false;
  return app.redirectUris.some((registered) => {
    const url = parseUrl(registered);
    return url !== undefined && url.protocol === 'http:' && url.hostname === given.hostname && url.pathname === given.pathname && url.search === given.search;
  });
}

/**
 * The admin consent endpoint (`/{tenant}/v2.0/adminconsent`): a page naming the app and the permissions it
 * asks for, with Accept and Cancel; Accept creates the app's service principal in the admin's tenant.
 * Which tenant the admin belongs to is the `{tenant}` segment, or for `organizations` what the admin types.
 */
export class AdminConsent {
  constructor(
    private readonly directory: SimDirectory,
    private readonly clock: SimClock,
  ) {}

  page(request: SimRequest, segment: string): SimResponse {
    try {
      const consent = readRequest(request.query, segment);
      const { app, home } = this.validate(consent);
      const tenant = segment.toLowerCase() === 'organizations' ? undefined : this.tenant(segment);
      const permissions = app.roles.map((role) => `<li>${escapeHtml(role)} (Microsoft Graph, application)</li>`).join('');
      const hidden = (['clientId', 'scope', 'redirectUri', 'state'] as const)
        .map((name) => `<input type="hidden" name="${fieldNames[name]}" value="${escapeHtml(consent[name])}">`)
        .join('');
      const who = tenant
        ? `<p>Signed in to <strong>${escapeHtml(tenant.displayName)}</strong> (${escapeHtml(tenant.domain)}) as its administrator.</p>`
        : `<p><label>Your organization (tenant id or domain) <input name="organization" required></label></p>`;
      return html(
        200,
        'Permissions requested',
        `<h1>Permissions requested</h1><p><strong>${escapeHtml(app.displayName)}</strong>, published by ${escapeHtml(home.displayName)} (${escapeHtml(home.domain)}), app id ${escapeHtml(app.appId)}, asks to be accepted for your whole organization with these permissions:</p><ul>${permissions}</ul>` +
          `<form method="post" action="/${escapeHtml(segment)}/v2.0/adminconsent">${hidden}${who}<button type="submit" name="decision" value="accept">Accept</button> <button type="submit" name="decision" value="cancel">Cancel</button></form>`,
      );
    } catch (error) {
      if (error instanceof ConsentPageFailure) return this.errorPage(error);
      throw error;
    }
  }

  decide(request: SimRequest, segment: string): SimResponse {
    try {
      const form = new URLSearchParams(request.body.toString('utf8'));
      const consent = readRequest(form, segment);
      const { app, home } = this.validate(consent);
      const decision = form.get('decision');
      if (decision === 'cancel') {
        return redirect(consent.redirectUri, {
          error: 'access_denied',
          error_description: 'AADSTS65004: User declined to consent to access the app.',
          state: consent.state,
        });
      }
      if (decision !== 'accept') throw new ConsentPageFailure(400, 900144, "The request body must contain the following parameter: 'decision' (accept or cancel).");
      const tenant = this.tenant(segment.toLowerCase() === 'organizations' ? (form.get('organization') ?? '').trim() : segment);
      if (!tenant.consentPolicy.signedInUserIsAdmin) {
        return redirect(consent.redirectUri, {
          error: 'access_denied',
          error_description: `AADSTS90094: ${app.displayName} needs permission to access resources in your organization that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.`,
          state: consent.state,
        });
      }
      if (tenant === home) {
        app.consentGranted = true;
      } else {
        this.directory.grantConsent(tenant, app);
      }
      return redirect(consent.redirectUri, { tenant: tenant.id, state: consent.state, scope: consent.scope, admin_consent: 'True' });
    } catch (error) {
      if (error instanceof ConsentPageFailure) return this.errorPage(error);
      throw error;
    }
  }

  /** The app and its home; an unknown app or an unregistered redirect URI never leaves Microsoft's page. */
  private validate(consent: ConsentRequest): { app: SimApp; home: SimTenant } {
    if (consent.segment.toLowerCase() !== 'organizations') this.tenant(consent.segment);
    if (!guidPattern.test(consent.clientId)) {
      throw new ConsentPageFailure(400, 700038, `${consent.clientId || "''"} is not a valid application identifier.`);
    }
    const registered = this.directory.multiTenantApp(consent.clientId) ?? this.singleTenantApp(consent);
    if (!registered) {
      throw new ConsentPageFailure(
        400,
        700016,
        `Application with identifier '${consent.clientId}' was not found in the directory '${consent.segment}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    if (!isRegisteredRedirectUri(registered.app, consent.redirectUri)) {
      throw new ConsentPageFailure(
        400,
        50011,
        `The redirect URI '${consent.redirectUri}' specified in the request does not match the redirect URIs configured for the application '${registered.app.appId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.`,
      );
    }
    if (!consent.scope.split(' ').some((s) => s.endsWith('/.default'))) {
      throw new ConsentPageFailure(400, 70011, `The provided value for the input parameter 'scope' is not valid. The scope '${consent.scope}' does not name a resource's /.default permissions.`);
    }
    return registered;
  }

  /** A single-tenant app can be consented to in its own tenant only. */
  private singleTenantApp(consent: ConsentRequest): { app: SimApp; home: SimTenant } | undefined {
    const tenant = this.directory.find(consent.segment);
    const app = tenant?.findApp(consent.clientId);
    return tenant && app ? { app, home: tenant } : undefined;
  }

  private tenant(segment: string): SimTenant {
    const tenant = segment === '' ? undefined : this.directory.find(segment);
    if (!tenant) {
      throw new ConsentPageFailure(400, 90002, `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    return tenant;
  }

  private errorPage(failure: ConsentPageFailure): SimResponse {
    const timestamp = `${this.clock.date().toISOString().slice(0, 19).replace('T', ' ')}Z`;
    return html(
      failure.status,
      'Sign in to your account',
      `<h1>Sorry, but we're having trouble signing you in.</h1><p id="error">AADSTS${failure.code}: ${escapeHtml(failure.message)}</p><p>Trace ID: ${randomUUID()}<br>Correlation ID: ${randomUUID()}<br>Timestamp: ${timestamp}</p>`,
    );
  }
}

const fieldNames = { clientId: 'client_id', scope: 'scope', redirectUri: 'redirect_uri', state: 'state' } as const;

function readRequest(params: URLSearchParams, segment: string): ConsentRequest {
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri) throw new ConsentPageFailure(400, 900144, "The request body must contain the following parameter: 'redirect_uri'.");
  return {
    segment,
    clientId: (params.get('client_id') ?? '').toLowerCase(),
    scope: params.get('scope') ?? '',
    redirectUri,
    state: params.get('state') ?? '',
  };
}

function redirect(redirectUri: string, params: Record<string, string>): SimResponse {
  const url = new URL(redirectUri);
  // An empty `state` was not sent, and is not sent back.
  for (const [name, value] of Object.entries(params)) if (value !== '' || name !== 'state') url.searchParams.set(name, value);
  return { status: 302, headers: { location: url.toString(), 'cache-control': 'no-store' } };
}
