import * as z from 'zod';
import { userLockSchema } from './storeSchema';
import type { StoredUser, UserLock } from './storeTypes';

/** `UserTuple`'s flags: the account's state in bits. */
const ENABLED = 1;
const ON_PREMISES_KNOWN = 2;
const ON_PREMISES = 4;
/** Every flag set: a tuple's flags are a whole number from 0 to this. */
export const USER_TUPLE_FLAGS = ENABLED | ON_PREMISES_KNOWN | ON_PREMISES;

/**
 * A user as the users files hold it from users-file version 2 on: its values in a fixed order, without
 * the keys, which were about half of every user's bytes. A restart reads every tenant's users, so it
 * parses half the JSON it did and a snapshot is half the size. The lock, which few users have, comes
 * last and only when there is one.
 */
export type UserTuple = [id: string, userPrincipalName: string, displayName: string | null, flags: number, lastChangedAt: number, lastVerifiedAt: number, lock?: UserLock];

export function userTupleOf(user: StoredUser): UserTuple {
  const flags =
    (user.accountEnabled ? ENABLED : 0) | (user.onPremisesSyncEnabled === null ? 0 : ON_PREMISES_KNOWN | (user.onPremisesSyncEnabled ? ON_PREMISES : 0));
  return user.lock
    ? [user.id, user.userPrincipalName, user.displayName, flags, user.lastChangedAt, user.lastVerifiedAt, user.lock]
    : [user.id, user.userPrincipalName, user.displayName, flags, user.lastChangedAt, user.lastVerifiedAt];
}

export function userOfTuple(tuple: UserTuple): StoredUser {
  const flags = tuple[3];
  return {
    id: tuple[0],
    userPrincipalName: tuple[1],
    displayName: tuple[2],
    accountEnabled: (flags & ENABLED) !== 0,
    onPremisesSyncEnabled: flags & ON_PREMISES_KNOWN ? (flags & ON_PREMISES) !== 0 : null,
    lastChangedAt: tuple[4],
    lastVerifiedAt: tuple[5],
    lock: tuple[6] ?? null,
  };
}

const time = z.number().int().nonnegative();
/** The schema of a user tuple, for a file the quick check (`usersLogShapes`) did not accept: it names the fault. */
export const userTupleSchema: z.ZodType<UserTuple> = z.tuple([
  z.string().min(1),
  z.string(),
  z.string().nullable(),
  z.number().int().min(0).max(USER_TUPLE_FLAGS),
  time,
  time,
  userLockSchema.optional(),
]);
