import type { AuditEntry } from '../directory/simTenant';
import { json, type SimRequest, type SimResponse } from '../http/simExchange';
import { requireAnyRole, type GraphCaller } from './graphCaller';
import type { GraphContext } from './graphContext';
import { badRequest } from './graphFailure';
import { compileFilter, unquote, type FilterClause } from './odataFilter';

const clauses: Array<FilterClause<AuditEntry>> = [
  {
    pattern: /^activityDateTime (ge|gt|le|lt) (\S+)$/i,
    build: (m) => {
      const at = Date.parse(m[2] ?? '');
      if (Number.isNaN(at)) throw badRequest(`Invalid date in filter: ${m[2] ?? ''}`);
      const op = (m[1] ?? '').toLowerCase();
      return (entry) => {
        const time = Date.parse(entry.activityDateTime);
        return op === 'ge' ? time >= at : op === 'gt' ? time > at : op === 'le' ? time <= at : time < at;
      };
    },
  },
  {
    pattern: /^(activityDisplayName|category|loggedByService) eq '((?:[^']|'')*)'$/i,
    build: (m) => {
      const property = (m[1] ?? '').toLowerCase();
      const value = unquote(m[2]);
      return (entry) =>
        (property === 'category' ? entry.category : property === 'loggedbyservice' ? entry.loggedByService : entry.activityDisplayName) === value;
    },
  },
  {
    pattern: /^startswith\(activityDisplayName,\s*'((?:[^']|'')*)'\)$/i,
    build: (m) => {
      const value = unquote(m[1]);
      return (entry) => entry.activityDisplayName.startsWith(value);
    },
  },
  {
    pattern: /^targetResources\/any\((\w+):\s*\1\/(id|userPrincipalName) eq '((?:[^']|'')*)'\)$/i,
    build: (m) => {
      const byId = (m[2] ?? '').toLowerCase() === 'id';
      const value = unquote(m[3]).toLowerCase();
      return (entry) =>
        entry.targetResources.some((t) => (byId ? t.id : t.userPrincipalName).toLowerCase() === value);
    },
  },
];

interface AuditPageState {
  tenant: string;
  filter: string | null;
  top: number;
  offset: number;
}

/**
 * `GET /auditLogs/directoryAudits`, newest first. Entries appear only after the tenant's ingestion delay,
 * as Microsoft's do.
 */
export function listDirectoryAudits(context: GraphContext, caller: GraphCaller, request: SimRequest): SimResponse {
  requireAnyRole(caller, ['AuditLog.Read.All']);
  const skiptoken = request.query.get('$skiptoken');
  let state: AuditPageState;
  if (skiptoken !== null) {
    state = context.linkTokens.openFor<AuditPageState>(skiptoken, caller.tenant.id);
  } else {
    const top = Number(request.query.get('$top') ?? '100');
    if (!Number.isInteger(top) || top < 1 || top > 999) throw badRequest(`Invalid page size specified: '${request.query.get('$top') ?? ''}'.`);
    state = { tenant: caller.tenant.id, filter: request.query.get('$filter'), top, offset: 0 };
  }
  const filter = compileFilter(state.filter, clauses, 'directoryAudit');
  const entries = caller.tenant.visibleAudit(context.clock.now()).filter((entry) => !filter || filter(entry));
  const page = entries.slice(state.offset, state.offset + state.top).map(({ visibleAt: _hidden, ...entry }) => entry);
  const body: Record<string, unknown> = { '@odata.context': `${request.origin}/v1.0/$metadata#auditLogs/directoryAudits` };
  if (state.offset + state.top < entries.length) {
    body['@odata.nextLink'] = `${request.origin}/v1.0/auditLogs/directoryAudits?$skiptoken=${context.linkTokens.seal({ ...state, offset: state.offset + state.top })}`;
  }
  body.value = page;
  return json(200, body);
}
