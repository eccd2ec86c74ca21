import type { DelegatedAdminRelationship } from '../directory/delegatedAdminRelationship';
import { json, type SimRequest, type SimResponse } from '../http/simExchange';
import { requireAnyRole, type GraphCaller } from './graphCaller';
import type { GraphContext } from './graphContext';
import { badRequest } from './graphFailure';

// Learn documents `$top` up to 300 but no default page size; the simulator pages by 100 unless asked.
const defaultPageSize = 100;
const maxPageSize = 300;
const properties = ['id', 'tenantId', 'displayName'] as const;
type CustomerProperty = (typeof properties)[number];
const byLowerName = new Map(properties.map((name) => [name.toLowerCase(), name]));

interface ListState {
  tenant: string;
  offset: number;
  top: number;
  select: string | null;
}

function parseTop(raw: string | null): number {
  if (raw === null) return defaultPageSize;
  const top = Number(raw);
  if (!Number.isInteger(top) || top < 1 || top > maxPageSize) {
    throw badRequest(`Invalid page size specified: '${raw}'. Must be between 1 and ${maxPageSize} inclusive.`);
  }
  return top;
}

function parseSelect(select: string | null): CustomerProperty[] {
  if (select === null || select.trim() === '') return [...properties];
  return select.split(',').map((raw) => {
    const name = byLowerName.get(raw.trim().toLowerCase());
    if (!name) throw badRequest(`Could not find a property named '${raw.trim()}' on type 'microsoft.graph.delegatedAdminCustomer'.`);
    return name;
  });
}

function project(relationship: DelegatedAdminRelationship, selected: CustomerProperty[]): Record<string, unknown> {
  const values: Record<CustomerProperty, string> = {
    id: relationship.tenantId,
    tenantId: relationship.tenantId,
    displayName: relationship.displayName,
  };
  const item: Record<string, unknown> = { '@odata.etag': relationship.etag };
  for (const name of selected) item[name] = values[name];
  return item;
}

/**
 * `GET /tenantRelationships/delegatedAdminCustomers` in a partner tenant: the customers with at least one
 * active GDAP relationship, with `$top`, `$select` and `$skiptoken` paging.
 */
export function listDelegatedAdminCustomers(context: GraphContext, caller: GraphCaller, request: SimRequest): SimResponse {
  requireAnyRole(caller, ['DelegatedAdminRelationship.Read.All', 'DelegatedAdminRelationship.ReadWrite.All']);
  const skiptoken = request.query.get('$skiptoken');
  const state: ListState =
    skiptoken !== null
      ? context.linkTokens.openFor<ListState>(skiptoken, caller.tenant.id)
      : { tenant: caller.tenant.id, offset: 0, top: parseTop(request.query.get('$top')), select: request.query.get('$select') };
  const selected = parseSelect(state.select);
  const active = [...caller.tenant.delegatedAdminRelationships.values()].filter((r) => r.active);
  const page = active.slice(state.offset, state.offset + state.top);
  const next = state.offset + page.length;
  const body: Record<string, unknown> = {
    '@odata.context': `${request.origin}/v1.0/$metadata#tenantRelationships/delegatedAdminCustomers${
      state.select === null ? '' : `(${selected.join(',')})`
    }`,
  };
  if (next < active.length) {
    body['@odata.nextLink'] = `${request.origin}/v1.0/tenantRelationships/delegatedAdminCustomers?$skiptoken=${context.linkTokens.seal({ ...state, offset: next })}`;
  }
  body.value = page.map((relationship) => project(relationship, selected));
  return json(200, body);
}
