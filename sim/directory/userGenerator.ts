import { SeededRandom } from '../seededRandom';
import type { SimUser } from './simTenant';

const givenNames = [
  'Ava', 'Liam', 'Olivia', 'Noah', 'Emma', 'Lucas', 'Mia', 'Mateo', 'Sofia', 'Elijah', 'Amara', 'Kenji',
  'Priya', 'Omar', 'Fatima', 'Chen', 'Ingrid', 'Thandiwe', 'Diego', 'Hannah',
  // Real tenants are full of names that are not ASCII; the product must carry them intact.
  'José', 'Zoë', 'Søren', 'Łukasz', 'Ólafur', 'Chloé', 'Björn', 'Ngọc', 'Ağaç', 'Renée', 'Dvořák',
  '太郎', 'Σοφία', 'Александр', 'مريم',
];
const surnames = [
  'Smith', 'Johnson', 'Garcia', 'Brown', 'Okafor', 'Nakamura', 'Patel', 'Haddad', 'Kowalski', 'Silva',
  'Müller', 'Núñez', 'Ødegaard', 'Żółć', 'Nguyễn', 'Çelik', 'Ó Briain', "O'Connor", 'van der Berg',
  '山田', 'Παπαδόπουλος', 'Иванова', 'العلي',
];
/**
 * Display names an attacker could set on an account in a compromised tenant. The product must show these
 * as text, never run or render them.
 */
export const hostileDisplayNames = [
  '<img src=x onerror=alert(1)>',
  '<script>alert("m365")</script>',
  '"><svg onload=alert(document.domain)>',
  "'; DROP TABLE users; --",
  '{{constructor.constructor("alert(1)")()}}',
  '${7*7} `whoami`', // eslint-disable-line no-template-curly-in-string -- a template injection, literal on purpose
  'Admin\u202Egnp.exe',
  '[click me](command:workbench.action.terminal.new)',
];
const jobTitles = ['Engineer', 'Accountant', 'Nurse', 'Sales Lead', 'Analyst', 'Designer', 'Director', null];
const departments = ['Finance', 'IT', 'Operations', 'Sales', 'Legal', 'Clinical', null];
export const privilegedRoles = ['Global Administrator', 'Privileged Role Administrator', 'User Administrator'];

export interface UserMix {
  disabledShare: number;
  onPremisesShare: number;
  privilegedShare: number;
  hostileShare: number;
}

export const defaultUserMix: UserMix = {
  disabledShare: 0.05,
  onPremisesShare: 0.2,
  privilegedShare: 0.01,
  hostileShare: 0.01,
};

function asciiLocalPart(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[łŁ]/g, 'l')
    .replace(/[øØ]/g, 'o')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/**
 * Generates users deterministically from a seed: the same seed, domain and count give the same users, so
 * tests and benchmarks can name what they expect.
 */
export function generateUsers(
  domain: string,
  count: number,
  seed: number,
  firstIndex: number,
  createdAt: string,
  mix: UserMix = defaultUserMix,
): SimUser[] {
  const random = new SeededRandom(seed ^ (firstIndex * 2654435761));
  const users: SimUser[] = [];
  for (let n = firstIndex; n < firstIndex + count; n++) {
    const givenName = random.pick(givenNames);
    const surname = random.pick(surnames);
    const hostile = random.chance(mix.hostileShare);
    const local = `${asciiLocalPart(givenName) || 'user'}.${asciiLocalPart(surname) || 'x'}${n}`;
    users.push({
      id: random.guid(),
      userPrincipalName: `${local}@${domain}`,
      displayName: hostile ? random.pick(hostileDisplayNames) : `${givenName} ${surname}`,
      givenName,
      surname,
      mail: `${local}@${domain}`,
      jobTitle: random.pick(jobTitles),
      department: random.pick(departments),
      accountEnabled: !random.chance(mix.disabledShare),
      onPremisesSyncEnabled: random.chance(mix.onPremisesShare) ? true : null,
      privilegedRole: random.chance(mix.privilegedShare) ? random.pick(privilegedRoles) : null,
      userType: 'Member',
      createdDateTime: createdAt,
      signInSessionsValidFromDateTime: createdAt,
      version: 0,
      createdVersion: 0,
      propertyVersions: {},
      deleted: null,
    });
  }
  return users;
}
