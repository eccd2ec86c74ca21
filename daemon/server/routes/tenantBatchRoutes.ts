import express, { Router } from 'express';
import { LIMITS, tenantBatchSchema } from '../../../protocol/daemonApi';
import { AppError } from '../../errors/AppError';
import { operatorOf, type DaemonServices } from '../daemonServices';
import { tenantCsv } from '../tenantCsv';

/** Bulk add: a JSON list or a CSV file of tenants on app profiles, each answered on its own. */
export function tenantBatchRoutes(services: DaemonServices): Router {
  const router = Router();

  // Express reads `:batch` as a parameter unless escaped; the path is Google's custom-method style.
  router.post('/tenants\\:batch', express.text({ type: 'text/csv', limit: LIMITS.requestBodyMaxBytes }), async (request, response) => {
    let lines: Array<{ line: number; entry: unknown }>;
    if (typeof request.body === 'string') {
      lines = tenantCsv(request.body);
      if (lines.length === 0) throw AppError.badRequest('VALIDATION_FAILED', 'The CSV file lists no tenant under its header line.', { field: 'body' });
    } else {
      lines = tenantBatchSchema.parse(request.body).tenants.map((entry, index) => ({ line: index + 1, entry }));
    }
    if (lines.length > LIMITS.tenantBatchMaxEntries) {
      throw new AppError({
        status: 413,
        code: 'BATCH_TOO_LARGE',
        message: `${lines.length} tenants in one request; the daemon takes at most ${LIMITS.tenantBatchMaxEntries} at once. Split the list.`,
        details: { field: 'tenants', max: LIMITS.tenantBatchMaxEntries },
      });
    }
    response.json(await services.batch.add(lines, operatorOf(request, services)));
  });

  return router;
}
