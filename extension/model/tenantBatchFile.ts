import { LIMITS } from '../../protocol/daemonApi';

/** One request of a bulk add: the body to send, and which line of the file each of its entries came from. */
export interface TenantBatchChunk {
  readonly body: { tenants: readonly unknown[] } | { csv: string };
  /** `fileLines[n - 1]` is the file's line (CSV) or entry number (JSON) of the daemon's answer for line `n`. */
  readonly fileLines: readonly number[];
}

export interface TenantBatchFile {
  readonly format: 'csv' | 'json';
  readonly entryCount: number;
  readonly chunks: readonly TenantBatchChunk[];
}

export interface TenantBatchChunkLimits {
  maxEntries: number;
  maxBytes: number;
}

// The margin under the daemon's body limit leaves room for the JSON around the entries.
const defaultLimits: TenantBatchChunkLimits = { maxEntries: LIMITS.tenantBatchMaxEntries, maxBytes: LIMITS.requestBodyMaxBytes - 4 * 1024 };

/**
 * Splits a CSV or JSON file of tenants into requests the daemon takes (at most its entry limit and under
 * its body limit each), so that a long file shows progress and can be cancelled between requests. The
 * daemon checks every entry; this only finds the entries and says clearly when the file is neither form.
 */
export function tenantBatchFile(fileName: string, text: string, limits: TenantBatchChunkLimits = defaultLimits): TenantBatchFile {
  const body = text.replace(/^\uFEFF/, '');
  const json = /\.json$/i.test(fileName) || (!/\.csv$/i.test(fileName) && /^\s*[[{]/.test(body));
  return json ? jsonFile(fileName, body, limits) : csvFile(fileName, body, limits);
}

function jsonFile(fileName: string, text: string, limits: TenantBatchChunkLimits): TenantBatchFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${fileName} is not valid JSON (${error instanceof Error ? error.message : String(error)}). It should hold {"tenants": [{"tenant": …, "profile": …}, …]}.`, { cause: error });
  }
  const tenants = Array.isArray(parsed) ? parsed : typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).tenants : undefined;
  if (!Array.isArray(tenants)) throw new Error(`${fileName} has no "tenants" list. It should hold {"tenants": [{"tenant": …, "profile": …}, …]}.`);
  if (tenants.length === 0) throw new Error(`${fileName} lists no tenant.`);
  return { format: 'json', entryCount: tenants.length, chunks: tenantBatchChunks(tenants, limits) };
}

/** JSON entries in requests the daemon takes; each answer's line is the entry's number in `tenants`. */
export function tenantBatchChunks(tenants: readonly unknown[], limits: TenantBatchChunkLimits = defaultLimits): TenantBatchChunk[] {
  const chunks: TenantBatchChunk[] = [];
  let entries: unknown[] = [];
  let lines: number[] = [];
  let bytes = 0;
  tenants.forEach((entry, index) => {
    const size = utf8Length(JSON.stringify(entry) ?? 'null') + 1;
    if (entries.length > 0 && (entries.length >= limits.maxEntries || bytes + size > limits.maxBytes)) {
      chunks.push({ body: { tenants: entries }, fileLines: lines });
      entries = [];
      lines = [];
      bytes = 0;
    }
    entries.push(entry);
    lines.push(index + 1);
    bytes += size;
  });
  if (entries.length > 0) chunks.push({ body: { tenants: entries }, fileLines: lines });
  return chunks;
}

function csvFile(fileName: string, text: string, limits: TenantBatchChunkLimits): TenantBatchFile {
  const lines = text.split(/\r?\n/);
  const headerIndex = lines.findIndex((line) => line.trim() !== '');
  if (headerIndex < 0) throw new Error(`${fileName} is empty: it needs a header line (tenant,displayName,profile,pollIntervalSeconds) and one tenant a line.`);
  const header = lines[headerIndex] ?? '';
  const chunks: TenantBatchChunk[] = [];
  let body: string[] = [];
  let fileLines: number[] = [];
  let bytes = 0;
  let entryCount = 0;
  const flush = (): void => {
    // The daemon numbers a CSV answer by its line in the text sent: the header is line 1.
    chunks.push({ body: { csv: [header, ...body].join('\n') }, fileLines: [headerIndex + 1, ...fileLines] });
    body = [];
    fileLines = [];
    bytes = 0;
  };
  const headerBytes = utf8Length(header) + 1;
  lines.forEach((line, index) => {
    if (index <= headerIndex || line.trim() === '') return;
    const size = utf8Length(line) + 1;
    if (body.length > 0 && (body.length >= limits.maxEntries || headerBytes + bytes + size > limits.maxBytes)) flush();
    body.push(line);
    fileLines.push(index + 1);
    bytes += size;
    entryCount++;
  });
  if (entryCount === 0) throw new Error(`${fileName} lists no tenant under its header line.`);
  flush();
  return { format: 'csv', entryCount, chunks };
}

const encoder = new TextEncoder();

function utf8Length(text: string): number {
  return encoder.encode(text).length;
}
