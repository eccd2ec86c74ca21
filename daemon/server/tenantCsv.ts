import { AppError } from '../errors/AppError';

const columns = ['tenant', 'displayName', 'profile', 'pollIntervalSeconds'] as const;

/** Splits one CSV line into fields: commas, and double quotes around a field that holds one (`""` for a quote). */
function fields(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (char === ',') {
      out.push(field.trim());
      field = '';
    } else field += char;
  }
  out.push(quoted ? field : field.trim());
  return out;
}

/**
 * `text/csv` for `POST /v1/tenants:batch`: a header line naming the columns (`tenant`, `displayName`,
 * `profile`, `pollIntervalSeconds`, in any order; `tenant` and `profile` required), then one tenant a
 * line. Each line becomes an entry checked like a JSON one; its number is its line in the file.
 */
export function tenantCsv(text: string): Array<{ line: number; entry: Record<string, unknown> }> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex < 0) throw AppError.badRequest('VALIDATION_FAILED', 'The CSV file is empty: it needs a header line and one tenant a line.', { field: 'body' });
  const header = fields(lines[headerIndex] ?? '');
  const known = new Map(columns.map((c) => [c.toLowerCase(), c]));
  const names = header.map((h) => known.get(h.toLowerCase()));
  const unknown = header.filter((_h, i) => names[i] === undefined);
  if (unknown.length > 0 || !names.includes('tenant') || !names.includes('profile')) {
    throw AppError.badRequest(
      'VALIDATION_FAILED',
      `The CSV header must name the columns ${columns.join(', ')} (tenant and profile required)${unknown.length > 0 ? `; unknown: ${unknown.map((u) => u.slice(0, 40)).join(', ')}` : ''}.`,
      { field: 'header' },
    );
  }
  const entries: Array<{ line: number; entry: Record<string, unknown> }> = [];
  lines.forEach((text, index) => {
    if (index <= headerIndex || text.trim() === '') return;
    const values = fields(text);
    const entry: Record<string, unknown> = {};
    names.forEach((name, i) => {
      const value = values[i] ?? '';
      if (!name || value === '') return;
      // A number the JSON form would take as one; anything else stays text and is refused as such.
      entry[name] = name === 'pollIntervalSeconds' && /^\d{1,9}$/.test(value) ? Number(value) : value;
    });
    if (values.length > names.length) entry['unexpected'] = values.slice(names.length).join(',');
    entries.push({ line: index + 1, entry });
  });
  return entries;
}
