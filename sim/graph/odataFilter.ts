import { badRequest, unsupportedQuery } from './graphFailure';

/** One `$filter` clause form the simulator understands, and the predicate it builds. */
export interface FilterClause<T> {
  pattern: RegExp;
  /** An "advanced query": only with `ConsistencyLevel: eventual` and `$count=true`. */
  advancedOnly?: boolean;
  build: (match: RegExpMatchArray) => (item: T) => boolean;
}

/** A quoted OData string literal's value (`''` is an escaped quote). */
export function unquote(value: string | undefined): string {
  return (value ?? '').replace(/''/g, "'");
}

/**
 * Compiles `$filter` clauses joined with `and` into one predicate; a clause of no known form is
 * Graph's 400, an advanced one without advanced query mode its `Request_UnsupportedQuery`.
 */
export function compileFilter<T>(
  filter: string | null,
  clauses: ReadonlyArray<FilterClause<T>>,
  resource: string,
  advanced = false,
): ((item: T) => boolean) | null {
  if (filter === null || filter.trim() === '') return null;
  const predicates = filter
    .trim()
    .split(/\s+and\s+/i)
    .map((clause) => {
      const text = clause.trim().replace(/\s+/g, ' ');
      for (const { pattern, advancedOnly, build } of clauses) {
        const match = text.match(pattern);
        if (!match) continue;
        if (advancedOnly && !advanced) {
          throw unsupportedQuery(`Unsupported or invalid query filter clause specified for property '${text.split(' ')[0]}' of resource '${resource}'.`);
        }
        return build(match);
      }
      throw badRequest(`Invalid filter clause: ${text}`);
    });
  return (item) => predicates.every((predicate) => predicate(item));
}
