import { randomBytes } from 'node:crypto';
import type { ConsentLinkView, ConsentView, RequestConsentRequest } from '../../protocol/daemonApi';
import type { Clock } from '../clock';
import { AppError, isAppError } from '../errors/AppError';
import type { Logger } from '../logging/logger';
import { graphScope } from '../microsoft/microsoftEndpoints';
import type { Store } from '../store/store';
import type { StoredTenant } from '../store/storeTypes';
import type { CredentialHealthService } from './credentialHealthService';
import type { EventStream } from './eventStream';
import type { RegisteredTenantLookup } from './registeredTenantLookup';
import type { TenantRegistry } from './tenantRegistry';

/** How long a consent link waits for its answer, as long as an admin reasonably takes to sign in. */
export const CONSENT_LINK_TTL_MS = 15 * 60_000;
/** An answered or expired request is still shown (GET …/consents/{state}) this much longer. */
const ANSWERED_KEPT_MS = 60 * 60_000;

interface ConsentRequest {
  view: ConsentView;
  /** The admin's answer arrived and is being acted on: a second one is refused, while the view stays pending. */
  answered: boolean;
  displayName: string | undefined;
  pollIntervalMs: number | undefined;
  by: string;
}

/** What the loopback listener shows the admin's browser: plain words, and a status. */
export interface ConsentPage {
  status: 200 | 400 | 503;
  title: string;
  lines: string[];
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Microsoft's consent refusals in plain words; the description is shown with them. */
function plainWords(error: string, description: string): string {
  if (/AADSTS65004/.test(description)) return 'The admin declined to consent to the app.';
  if (/AADSTS90094/.test(description)) return 'The one who signed in is not an admin of that tenant: a Global Administrator (or Privileged Role Administrator) must open the link.';
  if (/AADSTS50011/.test(description)) return 'The redirect URI is not registered on the app: add it to the app registration (Authentication → Redirect URIs).';
  if (error === 'access_denied') return 'Consent was refused.';
  return `Microsoft answered "${error}".`;
}

/**
 * Admin-consent links for an app profile's app, and their answers. Each link carries a random `state`
 * held here, in memory, for `CONSENT_LINK_TTL_MS`: an answer is acted on only for a state this daemon
 * made, once, before it expires. Memory is enough: a restart simply asks for a new link.
 */
export class ConsentService {
  private readonly requests = new Map<string, ConsentRequest>();
  private redirectUri: string | null = null;

  constructor(
    private readonly store: Store,
    private readonly registry: TenantRegistry,
    private readonly health: CredentialHealthService,
    private readonly events: EventStream,
    private readonly authorityHost: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly registered: RegisteredTenantLookup,
  ) {}

  /** Known once the loopback listener listens. */
  listenOn(redirectUri: string): void {
    this.redirectUri = redirectUri;
  }

  async request(profileId: string, input: RequestConsentRequest, by: string): Promise<ConsentLinkView> {
    const profile = await this.store.requireAppProfile(profileId);
    if (!this.redirectUri) throw new AppError({ status: 503, code: 'INTERNAL_ERROR', message: 'The consent listener is not running.' });
    this.prune();
    const state = randomBytes(24).toString('base64url');
    const now = this.clock.now();
    const expiresAt = now + CONSENT_LINK_TTL_MS;
    this.requests.set(state, {
      view: {
        state,
        appProfileId: profile.id,
        tenant: input.tenant,
        status: 'pending',
        expiresAt,
        tenantId: null,
        missingRoles: [],
        missingOptionalRoles: [],
        error: null,
      },
      answered: false,
      displayName: input.displayName,
      pollIntervalMs: input.pollIntervalSeconds ? input.pollIntervalSeconds * 1000 : undefined,
      by,
    });
    const query = new URLSearchParams({ client_id: profile.appId, scope: graphScope, redirect_uri: this.redirectUri, state });
    const consentUrl = `${new URL(this.authorityHost).origin}/${encodeURIComponent(input.tenant)}/v2.0/adminconsent?${query.toString()}`;
    return { consentUrl, state, redirectUri: this.redirectUri, expiresAt };
  }

  get(profileId: string, state: string): ConsentView {
    const request = this.requests.get(state);
    if (!request || request.view.appProfileId !== profileId) {
      throw AppError.notFound('CONSENT_STATE_UNKNOWN', 'No consent link with this state: it was never made here, or it expired over an hour ago.', { field: 'state' });
    }
    this.expireIfDue(request);
    return structuredClone(request.view);
  }

  /** The admin's browser came back to the loopback redirect URI with Microsoft's answer. */
  async answer(query: URLSearchParams): Promise<ConsentPage> {
    const state = query.get('state') ?? '';
    const request = this.requests.get(state);
    if (request) this.expireIfDue(request);
    if (!request || request.view.status !== 'pending' || request.answered) {
      return {
        status: 400,
        title: 'Unknown consent answer',
        lines: ['This answer does not belong to a consent link m365-status is waiting for: it is unknown, expired or already used. Nothing was changed.', 'Ask for a new consent link and open it again.'],
      };
    }
    const error = query.get('error');
    if (error) {
      const description = query.get('error_description') ?? '';
      const message = plainWords(error, description);
      request.view.status = 'failed';
      request.view.error = { code: error, description, message };
      this.publish(request);
      return { status: 200, title: 'Consent not granted', lines: [message, `Microsoft said: ${error}: ${description}`, 'You may close this tab.'] };
    }
    const tenantId = query.get('tenant') ?? '';
    if (query.get('admin_consent')?.toLowerCase() !== 'true' || !guidPattern.test(tenantId)) {
      return { status: 400, title: 'Unreadable consent answer', lines: ['The answer names no consenting tenant. Nothing was changed.'] };
    }
    // Used once, whatever happens next: a replayed answer changes nothing. The view stays pending until
    // the tenant is registered, so that nobody asking meanwhile reads a failure that is not one.
    request.answered = true;
    const mismatch = await this.consentedElsewhere(request, tenantId);
    if (mismatch) return mismatch;
    try {
      const tenant = await this.registerOrRecheck(request, tenantId);
      const health = tenant.credentialHealth;
      request.view.status = 'granted';
      request.view.tenantId = tenant.id;
      request.view.missingRoles = health?.missingRoles ?? [];
      request.view.missingOptionalRoles = health?.missingOptionalRoles ?? [];
      this.publish(request);
      const lines = [`Consent recorded for ${tenant.displayName}; m365-status is syncing it now.`];
      if (request.view.missingRoles.length > 0) {
        lines.push(`The consent did not grant ${request.view.missingRoles.join(', ')}: the app cannot lock or unlock users there until an admin grants them.`);
      }
      lines.push('You may close this tab.');
      return { status: 200, title: 'Consent recorded', lines };
    } catch (caught) {
      const message = isAppError(caught) ? caught.message : 'The tenant could not be registered; the daemon log has the details.';
      if (!isAppError(caught)) this.logger.error('registering a consenting tenant failed', { tenantId, error: caught });
      request.view.status = 'failed';
      request.view.error = { code: isAppError(caught) ? caught.code : 'INTERNAL_ERROR', description: '', message };
      this.publish(request);
      return { status: 200, title: 'Consent granted, tenant not added', lines: [message] };
    }
  }

  /**
   * The answer must come from the tenant the link was made for. The state travels in the link, so whoever
   * holds the link could send an answer naming another directory that consented to the same app (another
   * customer of the partner): registering that one under this link's name would point the engineers' locks
   * at the wrong customer. A mismatch fails the link; a domain that cannot be looked up just now leaves it
   * waiting, so the admin can load the page again.
   */
  private async consentedElsewhere(request: ConsentRequest, tenantId: string): Promise<ConsentPage | undefined> {
    const expected = await this.registered.directoryIdOf(request.view.tenant).catch(() => null);
    if (expected === tenantId.toLowerCase()) return undefined;
    if (expected === null) {
      request.answered = false;
      return {
        status: 503,
        title: 'Consent not recorded yet',
        lines: [`m365-status could not look up the directory id of ${request.view.tenant} to check this answer against it. Nothing was changed.`, 'Load this page again in a moment.'],
      };
    }
    const message = `The consent was answered by directory ${tenantId}, not by ${request.view.tenant}, for which the link was made. Nothing was registered: ask for a new link and have an admin of ${request.view.tenant} open it.`;
    request.view.status = 'failed';
    request.view.error = { code: 'tenant_mismatch', description: '', message };
    this.publish(request);
    this.logger.warn('a consent answer named another tenant than its link', { appProfileId: request.view.appProfileId, expected, answered: tenantId });
    return { status: 400, title: 'Consent answered by another tenant', lines: [message] };
  }

  /** A tenant asked for by domain, or consenting again to grant more, is the one already here. */
  private async registerOrRecheck(request: ConsentRequest, tenantId: string): Promise<StoredTenant> {
    const tenants = await this.store.listTenants();
    const existing = (await this.registered.find(tenantId, tenants)) ?? (await this.registered.find(request.view.tenant, tenants));
    if (existing) return this.health.recheck(existing.id);
    return this.registry.registerOnProfile({
      tenant: tenantId,
      displayName: request.displayName ?? (guidPattern.test(request.view.tenant) ? undefined : request.view.tenant),
      appProfileId: request.view.appProfileId,
      pollIntervalMs: request.pollIntervalMs,
      by: request.by,
    });
  }

  private publish(request: ConsentRequest): void {
    this.events.publish({ type: 'consent', consent: structuredClone(request.view) });
  }

  private expireIfDue(request: ConsentRequest): void {
    if (request.view.status !== 'pending' || request.answered || this.clock.now() < request.view.expiresAt) return;
    request.view.status = 'failed';
    request.view.error = { code: 'expired', description: '', message: 'The consent link expired before an admin answered it: ask for a new one.' };
  }

  private prune(): void {
    const now = this.clock.now();
    for (const [state, request] of this.requests) {
      if (request.view.expiresAt + ANSWERED_KEPT_MS < now) this.requests.delete(state);
    }
  }
}
