import assert from 'node:assert/strict';
import type { TenantBatchResult, TenantView } from '../../../protocol/daemonApi';
import { tenantBatchFile } from '../../../extension/model/tenantBatchFile';
import type { TenantBatchReport } from '../../../extension/model/tenantBatchReport';
import { renumberTenantBatch, tenantBatchDocument, tenantBatchSummary } from '../../../extension/model/tenantBatchReport';

describe('bulk add files: split into requests the daemon takes, answers put back on the file lines', () => {
  it('splits a CSV file by entry count, repeating the header, and maps each request line back to the file line', () => {
    const csv = ['\uFEFFtenant,profile', 'a.onmicrosoft.com,P', '', 'b.onmicrosoft.com,P', 'c.onmicrosoft.com,P'].join('\r\n');
    const file = tenantBatchFile('list.csv', csv, { maxEntries: 2, maxBytes: 60_000 });
    assert.equal(file.format, 'csv');
    assert.equal(file.entryCount, 3);
    assert.deepEqual(
      file.chunks.map((chunk) => chunk.body),
      [{ csv: 'tenant,profile\na.onmicrosoft.com,P\nb.onmicrosoft.com,P' }, { csv: 'tenant,profile\nc.onmicrosoft.com,P' }],
    );
    assert.deepEqual(file.chunks.map((chunk) => chunk.fileLines), [[1, 2, 4], [1, 5]]);
  });

  it('splits by size too, so no request passes the body limit', () => {
    const tenants = Array.from({ length: 10 }, (_v, i) => ({ tenant: `t${i}.onmicrosoft.com`, profile: 'x'.repeat(100) }));
    const file = tenantBatchFile('list.json', JSON.stringify({ tenants }), { maxEntries: 200, maxBytes: 400 });
    assert.ok(file.chunks.length > 1);
    for (const chunk of file.chunks) assert.ok(JSON.stringify(chunk.body).length <= 400 + 20, 'within the bound');
    assert.deepEqual(file.chunks.flatMap((chunk) => chunk.fileLines), Array.from({ length: 10 }, (_v, i) => i + 1));
  });

  it('names what is wrong with a file that holds no tenants', () => {
    assert.throws(() => tenantBatchFile('a.csv', '\n\n'), /a\.csv is empty/);
    assert.throws(() => tenantBatchFile('b.csv', 'tenant,profile\n\n'), /b\.csv lists no tenant under its header line/);
    assert.throws(() => tenantBatchFile('c.json', '{"tenants": []}'), /c\.json lists no tenant/);
    assert.throws(() => tenantBatchFile('d.json', '[1,'), /d\.json is not valid JSON/);
    assert.equal(tenantBatchFile('e.txt', '[{"tenant": "x", "profile": "p"}]').format, 'json', 'a bare list, told apart by its first character');
  });

  it("puts the daemon's line numbers back on the file's, and lists every line's outcome with consent links in full", () => {
    const results: TenantBatchResult[] = renumberTenantBatch(
      {
        results: [
          { line: 2, tenant: 'a.onmicrosoft.com', outcome: 'added', tenantView: { displayName: 'A Co', status: 'ACTIVE' } as TenantView },
          { line: 3, tenant: 'bad', outcome: 'invalid', reason: 'not a domain', field: 'tenant' },
          { line: 4, tenant: 'c.onmicrosoft.com', outcome: 'needsConsent', consent: { consentUrl: 'https://login.example/c/v2.0/adminconsent?state=s', state: 's', redirectUri: 'http://localhost:1/consent', expiresAt: 0 } },
        ],
        counts: { added: 1, alreadyPresent: 0, invalid: 1, needsConsent: 1 },
      },
      [1, 7, 9, 12],
    );
    assert.deepEqual(results.map((r) => r.line), [7, 9, 12]);
    const report: TenantBatchReport = { results, counts: { added: 1, alreadyPresent: 0, invalid: 1, needsConsent: 1 }, notSent: 4, cancelled: true };
    assert.equal(tenantBatchSummary(report), 'Cancelled: 4 not sent. Added 1 tenant, 1 needs admin consent, 1 invalid.');
    const document = tenantBatchDocument('list.csv', report);
    assert.match(document, /^line 7\tADDED\ta\.onmicrosoft\.com\tas A Co \(ACTIVE\)$/m);
    assert.match(document, /^line 9\tINVALID\tbad\ttenant: not a domain$/m);
    assert.match(document, /^line 12\tNEEDS CONSENT\tc\.onmicrosoft\.com\tits admin must consent: https:\/\/login\.example\/c\/v2\.0\/adminconsent\?state=s$/m);
    assert.match(document, /Cancelled before 4 more entries were sent/);
  });
});
