import { userProperties, type SimUser, type UserProperty } from '../directory/simTenant';
import { badRequest } from './graphFailure';

/** What Graph returns for a user without `$select`: note that `accountEnabled` is not among them. */
export const defaultUserProperties: UserProperty[] = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

const byLowerName = new Map(userProperties.map((name) => [name.toLowerCase(), name]));

export function parseSelect(select: string | null): UserProperty[] | null {
  if (select === null || select.trim() === '') return null;
  return select.split(',').map((raw) => {
    const name = byLowerName.get(raw.trim().toLowerCase());
    if (!name) throw badRequest(`Could not find a property named '${raw.trim()}' on type 'microsoft.graph.user'.`);
    return name;
  });
}

function propertyValue(user: SimUser, property: UserProperty): unknown {
  switch (property) {
    case 'businessPhones':
      return [];
    case 'mobilePhone':
    case 'officeLocation':
    case 'preferredLanguage':
      return null;
    default:
      return user[property];
  }
}

/** The user as Graph serialises it for the selected properties (or the default set). */
export function projectUser(user: SimUser, selected: readonly UserProperty[] | null): Record<string, unknown> {
  const properties = selected ?? defaultUserProperties;
  const out: Record<string, unknown> = {};
  for (const property of properties) out[property] = propertyValue(user, property);
  return out;
}

export function contextUrl(origin: string, collection: string, selected: readonly UserProperty[] | null): string {
  return selected ? `${origin}/v1.0/$metadata#${collection}(${selected.join(',')})` : `${origin}/v1.0/$metadata#${collection}`;
}
