import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { USERS_DIR_NAME } from '../../../daemon/store/lowdbStore';
import type { StoredUser } from '../../../daemon/store/storeTypes';
import type { UserOnDisk, UsersLogRecord, UsersSnapshot } from '../../../daemon/store/usersLogSchema';

/**
 * A user as the files hold it, decoded here on its own terms: from users-file version 2 a tuple
 * `[id, userPrincipalName, displayName, flags, lastChangedAt, lastVerifiedAt, lock?]` with flags 1 enabled,
 * 2 on-premises known, 4 on-premises; in version 1 an object.
 */
function userOf(entry: UserOnDisk): StoredUser {
  if (!Array.isArray(entry)) return entry;
  const [id, userPrincipalName, displayName, flags, lastChangedAt, lastVerifiedAt, lock] = entry;
  return { id, userPrincipalName, displayName, accountEnabled: (flags & 1) === 1, onPremisesSyncEnabled: flags & 2 ? (flags & 4) === 4 : null, lastChangedAt, lastVerifiedAt, lock: lock ?? null };
}

/**
 * A tenant's users as its files hold them, read independently of the store: the snapshot, then every
 * complete record of the log (each line is an 8-digit CRC, a space, and JSON).
 */
export async function usersOnDisk(dataDir: string, tenantId: string): Promise<{ deltaLink: string | null; users: Map<string, StoredUser>; records: UsersLogRecord[] }> {
  const dir = join(dataDir, USERS_DIR_NAME);
  const snapshotText = await readFile(join(dir, `${tenantId}.snap.json`), 'utf8').catch(() => null);
  const snapshot = snapshotText === null ? null : (JSON.parse(snapshotText) as UsersSnapshot);
  const users = new Map((snapshot?.users ?? []).map(userOf).map((user) => [user.id, user]));
  let deltaLink = snapshot?.deltaLink ?? null;
  const logText = await readFile(join(dir, `${tenantId}.log`), 'utf8').catch(() => '');
  const [header, ...lines] = logText.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line.slice(9)) as unknown);
  const records: UsersLogRecord[] = [];
  if (header && (header as { generation: number }).generation === (snapshot?.generation ?? 0)) {
    for (const record of lines as UsersLogRecord[]) {
      records.push(record);
      for (const user of (record.set ?? []).map(userOf)) users.set(user.id, user);
      for (const id of record.removed ?? []) users.delete(id);
      if (record.deltaLink !== undefined) deltaLink = record.deltaLink;
    }
  }
  return { deltaLink, users, records };
}
