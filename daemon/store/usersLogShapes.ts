import type { StoredUser, UserLock } from './storeTypes';
import { STORE_SCHEMA_VERSION, USERS_FILE_SCHEMA_VERSION } from './storeSchema';
import type { UserOnDisk, UsersLogRecord, UsersSnapshot } from './usersLogSchema';
import { USER_TUPLE_FLAGS, type UserTuple } from './userTuple';

/**
 * Checks of the users files' common shapes that accept nothing `usersLogSchema` would refuse, made on the
 * parsed values as they are: zod builds a copy of every user it checks, and on a restart with a quarter
 * of a million users those copies were most of the load's collections. A value these do not accept (one
 * carrying activities, or any doubt) goes through the schema, which also names what is wrong.
 */
export const usersLogShapes = {
  /** A log record of users set, users removed, the delta link and `lastVerifiedAt` moves. */
  isRecord(value: unknown): value is UsersLogRecord {
    if (!isObject(value) || value.activities !== undefined) return false;
    const { set, removed, deltaLink, deltaRound, verified } = value;
    return (
      (set === undefined || isUserList(set)) &&
      (removed === undefined || isStringList(removed)) &&
      (deltaLink === undefined || deltaLink === null || typeof deltaLink === 'string') &&
      (deltaRound === undefined || isTime(deltaRound)) &&
      (verified === undefined || isVerifiedList(verified))
    );
  },

  /** A snapshot without activities. */
  isSnapshot(value: unknown): value is UsersSnapshot {
    if (!isObject(value) || value.activities !== undefined) return false;
    const { schemaVersion, tenantId, generation, deltaLink, deltaRound, users } = value;
    return (
      (schemaVersion === USERS_FILE_SCHEMA_VERSION || schemaVersion === STORE_SCHEMA_VERSION) &&
      typeof tenantId === 'string' &&
      tenantId.length > 0 &&
      isTime(generation) &&
      (deltaLink === null || typeof deltaLink === 'string') &&
      (deltaRound === undefined || isTime(deltaRound)) &&
      isUserList(users)
    );
  },
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-negative whole number, as the schema's times, generations and rounds are. */
function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isStringList(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== 'string') return false;
  return true;
}

function isVerifiedList(value: unknown): value is Array<[number, string[]]> {
  if (!Array.isArray(value)) return false;
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== 'number' || !Number.isFinite(item[0]) || !isStringList(item[1])) return false;
  }
  return true;
}

function isUserList(value: unknown): value is UserOnDisk[] {
  if (!Array.isArray(value)) return false;
  for (const user of value) if (!isUserTuple(user) && !isUser(user)) return false;
  return true;
}

function isUser(value: unknown): value is StoredUser {
  if (!isObject(value)) return false;
  const { id, userPrincipalName, displayName, accountEnabled, onPremisesSyncEnabled, lastChangedAt, lastVerifiedAt, lock } = value;
  return (
    typeof id === 'string' &&
    id.length > 0 &&
    typeof userPrincipalName === 'string' &&
    (displayName === null || typeof displayName === 'string') &&
    typeof accountEnabled === 'boolean' &&
    (onPremisesSyncEnabled === null || typeof onPremisesSyncEnabled === 'boolean') &&
    isTime(lastChangedAt) &&
    isTime(lastVerifiedAt) &&
    (lock === null || isUserLock(lock))
  );
}

/** A user as users files hold it from version 2 on: `[id, userPrincipalName, displayName, flags, lastChangedAt, lastVerifiedAt, lock?]`. */
function isUserTuple(value: unknown): value is UserTuple {
  if (!Array.isArray(value) || !(value.length === 6 || (value.length === 7 && isUserLock(value[6])))) return false;
  const [id, userPrincipalName, displayName, flags, lastChangedAt, lastVerifiedAt] = value as unknown[];
  return (
    typeof id === 'string' &&
    id.length > 0 &&
    typeof userPrincipalName === 'string' &&
    (displayName === null || typeof displayName === 'string') &&
    Number.isInteger(flags) &&
    (flags as number) >= 0 &&
    (flags as number) <= USER_TUPLE_FLAGS &&
    isTime(lastChangedAt) &&
    isTime(lastVerifiedAt)
  );
}

function isUserLock(value: unknown): value is UserLock {
  return isObject(value) && typeof value.by === 'string' && isTime(value.at) && typeof value.revokedSessions === 'boolean';
}
