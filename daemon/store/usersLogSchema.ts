import * as z from 'zod';
import { activitySchema, STORE_SCHEMA_VERSION, USERS_FILE_SCHEMA_VERSION, userSchema } from './storeSchema';
import type { StoredUser } from './storeTypes';
import { userOfTuple, userTupleSchema, type UserTuple } from './userTuple';

/** The versions of the users files this build reads: 1 (users as objects) and 2 (as tuples). */
const usersFileVersion = z.union([z.literal(STORE_SCHEMA_VERSION), z.literal(USERS_FILE_SCHEMA_VERSION)]);

/** A user as a users file holds it: a tuple, or (in files of version 1, and a version 1 log's records) an object. */
export type UserOnDisk = UserTuple | StoredUser;
const userOnDiskSchema: z.ZodType<UserOnDisk> = z.union([userTupleSchema, userSchema]);

/** The user a file's entry stands for. */
export function userOnDisk(entry: UserOnDisk): StoredUser {
  return Array.isArray(entry) ? userOfTuple(entry) : entry;
}

/**
 * `users/<tenant>.snap.json`: a tenant's users as of the end of log generation `generation - 1`; the log
 * of generation `generation` continues from it. Written whole only at compaction.
 */
export const usersSnapshotSchema = z.object({
  schemaVersion: usersFileVersion,
  tenantId: z.string().min(1),
  generation: z.number().int().nonnegative(),
  deltaLink: z.string().nullable(),
  /** Which of the tenant's delta rounds brought `deltaLink` (absent in files of earlier versions: 0). */
  deltaRound: z.number().int().nonnegative().optional(),
  users: z.array(userOnDiskSchema),
  /** Lock and unlock activities not yet in `store.json` when the snapshot was taken (see the record's). */
  activities: z.array(activitySchema).optional(),
});
export type UsersSnapshot = z.infer<typeof usersSnapshotSchema>;

/** The first record of `users/<tenant>.log`: which snapshot generation the records that follow continue. */
export const usersLogHeaderSchema = z.object({
  schemaVersion: usersFileVersion,
  tenantId: z.string().min(1),
  generation: z.number().int().nonnegative(),
});
export type UsersLogHeader = z.infer<typeof usersLogHeaderSchema>;

/**
 * Every later record: users set to their new state, users gone, the delta link (with its round, since
 * `sync-state.json` may hold a newer one), and `lastVerifiedAt`
 * moves (grouped by the time they moved to, since a round verifies many users at once). A lock or an
 * unlock carries its activity too, so that it costs one write: `store.json` takes the activity at its
 * next write, and until then a load restores it from here.
 */
export const usersLogRecordSchema = z.object({
  set: z.array(userOnDiskSchema).optional(),
  removed: z.array(z.string()).optional(),
  deltaLink: z.string().nullable().optional(),
  deltaRound: z.number().int().nonnegative().optional(),
  verified: z.array(z.tuple([z.number(), z.array(z.string())])).optional(),
  activities: z.array(activitySchema).optional(),
});
export type UsersLogRecord = z.infer<typeof usersLogRecordSchema>;
