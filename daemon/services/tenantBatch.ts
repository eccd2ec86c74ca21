import { tenantBatchEntrySchema, type TenantBatchEntry, type TenantBatchResult, type TenantBatchView, type TenantView } from '../../protocol/daemonApi';
import type { ApiViews } from '../api/apiViews';
import { isAppError } from '../errors/AppError';
import type { Store } from '../store/store';
import type { AppProfileService } from './appProfileService';
import type { AppProfileSignIn } from './appProfileSignIn';
import type { ConsentService } from './consentService';
import { forEachBounded } from './forEachBounded';
import type { RegisteredTenantLookup } from './registeredTenantLookup';
import type { TenantRegistry } from './tenantRegistry';

/** Entries worked on at once: each asks the identity platform once, and registering checks credential health. */
const concurrency = 4;

export interface BatchLine {
  /** The entry's place: its position in a JSON list, its line in a CSV file. */
  line: number;
  entry: unknown;
}

/**
 * Adding many tenants on app profiles in one request. Each entry is checked and answered on its own:
 * added (it had consented: registered, checked and syncing), already present, invalid (with the reason),
 * or needing consent (with its consent link). A failure while adding one entry takes that entry back.
 */
export class TenantBatch {
  constructor(
    private readonly store: Store,
    private readonly appProfiles: AppProfileService,
    private readonly signIn: AppProfileSignIn,
    private readonly registry: TenantRegistry,
    private readonly consents: ConsentService,
    private readonly views: ApiViews,
    private readonly registered: RegisteredTenantLookup,
  ) {}

  async add(lines: readonly BatchLine[], by: string): Promise<TenantBatchView> {
    const seen = new Map<string, number>();
    const checked = lines.map(({ line, entry }) => {
      const parsed = tenantBatchEntrySchema.safeParse(entry);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : null;
        const tenant = typeof (entry as { tenant?: unknown } | null)?.tenant === 'string' ? String((entry as { tenant: string }).tenant).slice(0, 256) : '';
        return invalid(line, tenant, `${field ? `"${field}": ` : ''}${issue?.message ?? 'not a tenant entry'}`, field);
      }
      const key = parsed.data.tenant.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) return invalid(line, parsed.data.tenant, `${parsed.data.tenant} is listed already, at ${first}.`, 'tenant');
      seen.set(key, line);
      return { line, entry: parsed.data };
    });
    const results = await forEachBounded(checked, concurrency, async (item) => ('outcome' in item ? item : this.addOne(item.line, item.entry, by)));
    const counts = { added: 0, alreadyPresent: 0, invalid: 0, needsConsent: 0 };
    for (const result of results) counts[result.outcome]++;
    return { results, counts };
  }

  private async addOne(line: number, entry: TenantBatchEntry, by: string): Promise<TenantBatchResult> {
    const profile = await this.appProfiles.find(entry.profile);
    if (!profile) return invalid(line, entry.tenant, `No app profile with the id or name "${entry.profile}".`, 'profile');
    const present = await this.registered.find(entry.tenant);
    if (present) return { line, tenant: entry.tenant, outcome: 'alreadyPresent', tenantId: present.id };
    const probe = await this.signIn.probe(profile, entry.tenant);
    if (probe.consent === 'notConsented') {
      const consent = await this.consents.request(
        profile.id,
        { tenant: entry.tenant, ...(entry.displayName ? { displayName: entry.displayName } : {}), ...(entry.pollIntervalSeconds ? { pollIntervalSeconds: entry.pollIntervalSeconds } : {}) },
        by,
      );
      return { line, tenant: entry.tenant, outcome: 'needsConsent', consent };
    }
    if (probe.consent === 'unknown') return invalid(line, entry.tenant, `${probe.failure.message} (${probe.failure.code})`, 'tenant');
    try {
      const tenant = await this.registry.registerOnProfile({
        tenant: entry.tenant,
        displayName: entry.displayName,
        appProfileId: profile.id,
        pollIntervalMs: entry.pollIntervalSeconds ? entry.pollIntervalSeconds * 1000 : undefined,
        by,
      });
      const tenantView: TenantView = await this.views.tenant(tenant);
      return { line, tenant: entry.tenant, outcome: 'added', tenantView };
    } catch (error) {
      if (isAppError(error) && error.code === 'TENANT_EXISTS') {
        return { line, tenant: entry.tenant, outcome: 'alreadyPresent', tenantId: String(error.details?.tenantId ?? '') };
      }
      // Registering took the entry back; the others go on.
      if (isAppError(error)) return invalid(line, entry.tenant, error.message, null);
      return invalid(line, entry.tenant, 'The tenant could not be added: an internal error, logged by the daemon. Nothing of it was kept.', null);
    }
  }
}

function invalid(line: number, tenant: string, reason: string, field: string | null): TenantBatchResult {
  return { line, tenant, outcome: 'invalid', reason, field };
}
