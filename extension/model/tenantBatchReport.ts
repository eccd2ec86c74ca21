import type { TenantBatchResult, TenantBatchView } from '../../protocol/daemonApi';

export interface TenantBatchReport {
  /** Every answer, numbered by the line (CSV) or entry (JSON) of the source it came from. */
  readonly results: TenantBatchResult[];
  readonly counts: TenantBatchView['counts'];
  /** Entries never sent because the operator cancelled. */
  readonly notSent: number;
  readonly cancelled: boolean;
  /** Why the run stopped early: a request the daemon refused whole, or could not be asked. */
  readonly failure?: string;
}

export const emptyTenantBatchCounts = (): TenantBatchView['counts'] => ({ added: 0, alreadyPresent: 0, invalid: 0, needsConsent: 0 });

/** The daemon's answer to one request, its line numbers put back to the file's. */
export function renumberTenantBatch(view: TenantBatchView, fileLines: readonly number[]): TenantBatchResult[] {
  return view.results.map((result) => ({ ...result, line: fileLines[result.line - 1] ?? result.line }));
}

/** One sentence for the notification: how many of each outcome. */
export function tenantBatchSummary(report: TenantBatchReport): string {
  const { added, alreadyPresent, invalid, needsConsent } = report.counts;
  const parts = [`Added ${added} ${added === 1 ? 'tenant' : 'tenants'}`];
  if (alreadyPresent > 0) parts.push(`${alreadyPresent} already present`);
  if (needsConsent > 0) parts.push(`${needsConsent} ${needsConsent === 1 ? 'needs' : 'need'} admin consent`);
  if (invalid > 0) parts.push(`${invalid} invalid`);
  const text = `${parts.join(', ')}.`;
  if (report.failure !== undefined) return `Stopped with ${report.notSent} not sent: ${report.failure} ${text}`;
  return report.cancelled ? `Cancelled: ${report.notSent} not sent. ${text}` : text;
}

const OUTCOME_LABEL: Readonly<Record<TenantBatchResult['outcome'], string>> = {
  added: 'ADDED',
  alreadyPresent: 'ALREADY PRESENT',
  invalid: 'INVALID',
  needsConsent: 'NEEDS CONSENT',
};

/**
 * Every line's outcome as plain text for a read-only editor: the consent links in full so they can be
 * copied, the reason for each invalid line. Plain text, so nothing from the file can become markup.
 */
export function tenantBatchDocument(source: string, report: TenantBatchReport): string {
  const out = [`# Tenants added from ${source}`, `# ${tenantBatchSummary(report)}`, ''];
  const lineWord = /\.csv$/i.test(source) ? 'line' : 'entry';
  for (const result of [...report.results].sort((a, b) => a.line - b.line)) {
    const head = `${lineWord} ${result.line}\t${OUTCOME_LABEL[result.outcome]}\t${result.tenant || '(no tenant)'}`;
    switch (result.outcome) {
      case 'added':
        out.push(`${head}\tas ${result.tenantView.displayName} (${result.tenantView.status})`);
        break;
      case 'alreadyPresent':
        out.push(`${head}\tregistered already`);
        break;
      case 'invalid':
        out.push(`${head}\t${result.field ? `${result.field}: ` : ''}${result.reason}`);
        break;
      case 'needsConsent':
        out.push(`${head}\tits admin must consent: ${result.consent.consentUrl}`);
        break;
    }
  }
  if (report.failure !== undefined) out.push('', `Stopped before ${report.notSent} more ${report.notSent === 1 ? 'entry was' : 'entries were'} sent: ${report.failure}`);
  if (report.cancelled) out.push('', `Cancelled before ${report.notSent} more ${report.notSent === 1 ? 'entry was' : 'entries were'} sent; nothing was done for them.`);
  const consents = report.results.filter((result) => result.outcome === 'needsConsent');
  if (consents.length > 0) {
    out.push('', 'Send each consent link to the customer\'s admin (or open it signed in as one). Once consent is given, the tenant is added and synced.');
  }
  return `${out.join('\n')}\n`;
}
