import { getDecoder } from 'iconv-lite';
import * as z from 'zod';
import * as daemonApi from '../../protocol/daemonApi';

/**
 * Runs the code an operator's first request would otherwise run for the first time while the operator waits:
 * body-parser's charset decoder (iconv-lite loads its tables of every encoding on first use) and the API's
 * schemas (zod compiles an object schema's checks on its first parse). About 12 ms once, on this
 * machine's class; the first registration after a start answered about 12 ms sooner with it at the median
 * (docs/performance.md, "Registrations").
 */
export function warmUpRequestPath(): void {
  // The decoder body-parser asks for every JSON body: `application/json` is read as UTF-8.
  getDecoder('utf-8');
  for (const value of Object.values(daemonApi)) {
    // An empty object fails every schema that needs a field, after compiling its checks.
    if (value instanceof z.ZodType) value.safeParse({});
  }
}
