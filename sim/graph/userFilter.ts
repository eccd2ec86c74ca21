import type { SimUser } from '../directory/simTenant';
import { badRequest } from './graphFailure';
import { compileFilter, unquote, type FilterClause } from './odataFilter';

export type UserPredicate = (user: SimUser) => boolean;

const clausePatterns: Array<FilterClause<SimUser>> = [
  {
    pattern: /^accountEnabled eq (true|false)$/i,
    build: (m) => {
      const value = m[1]?.toLowerCase() === 'true';
      return (user) => user.accountEnabled === value;
    },
  },
  {
    pattern: /^accountEnabled ne (true|false)$/i,
    advancedOnly: true,
    build: (m) => {
      const value = m[1]?.toLowerCase() === 'true';
      return (user) => user.accountEnabled !== value;
    },
  },
  {
    pattern: /^onPremisesSyncEnabled eq (true|false)$/i,
    build: (m) => {
      const value = m[1]?.toLowerCase() === 'true';
      return (user) => (user.onPremisesSyncEnabled ?? false) === value;
    },
  },
  {
    pattern: /^(userPrincipalName|mail|id) eq '((?:[^']|'')*)'$/i,
    build: (m) => {
      const property = m[1]?.toLowerCase() === 'id' ? 'id' : m[1]?.toLowerCase() === 'mail' ? 'mail' : 'userPrincipalName';
      const value = unquote(m[2]).toLowerCase();
      return (user) => user[property].toLowerCase() === value;
    },
  },
  {
    pattern: /^startswith\((displayName|userPrincipalName|givenName|surname|mail),\s*'((?:[^']|'')*)'\)$/i,
    build: (m) => {
      const name = (m[1] ?? '').toLowerCase();
      const property = (['displayName', 'userPrincipalName', 'givenName', 'surname', 'mail'] as const).find(
        (p) => p.toLowerCase() === name,
      ) ?? 'displayName';
      const value = unquote(m[2]).toLowerCase();
      return (user) => user[property].toLowerCase().startsWith(value);
    },
  },
];

/**
 * The `$filter` clauses Graph supports on users, joined with `and`. Clauses that are "advanced queries"
 * (such as `ne`) need `ConsistencyLevel: eventual` with `$count=true`, as in Graph.
 */
export function parseUserFilter(filter: string | null, advanced: boolean): UserPredicate | null {
  return compileFilter(filter, clausePatterns, 'User', advanced);
}

/** `$search="displayName:term"` with `ConsistencyLevel: eventual`. */
export function parseUserSearch(search: string | null): UserPredicate | null {
  if (search === null) return null;
  const match = search.match(/^"(displayName|userPrincipalName|mail):([^"]*)"$/i);
  if (!match) throw badRequest(`Syntax error: the search query '${search}' is not valid.`);
  const property = (match[1] ?? '').toLowerCase() === 'displayname' ? 'displayName' : (match[1] ?? '').toLowerCase() === 'mail' ? 'mail' : 'userPrincipalName';
  const term = (match[2] ?? '').toLowerCase();
  return (user) => user[property].toLowerCase().split(/[\s.@]+/).some((word) => word.startsWith(term));
}
