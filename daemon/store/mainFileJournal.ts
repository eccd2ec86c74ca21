import * as z from 'zod';
import { SeqJournal } from './seqJournal';
import { activitySchema, taskSchema, tenantSchema } from './storeSchema';

export const MAIN_JOURNAL_FILE_NAME = 'store.journal';

const tenantAddedRecordSchema = z.object({ tenantAdded: tenantSchema, activity: activitySchema }).strict();

const changeRecordSchema = z
  .object({
    seq: z.number().int().nonnegative(),
    tenants: z.array(tenantSchema).optional(),
    removedTenantIds: z.array(z.string()).optional(),
    tasks: z.array(taskSchema).optional(),
    activities: z.array(activitySchema).optional(),
  })
  .strict();

const journalRecordSchema = z.union([tenantAddedRecordSchema, changeRecordSchema]);

/** A tenant registered since `store.json` was last written, with the activity that says so. */
export type TenantAddedRecord = z.infer<typeof tenantAddedRecordSchema>;

/**
 * One change to the main file since it was last written, as it left memory: the tenants and tasks it
 * touched as they are now (whole, so that replaying records in order leaves each as the last one says),
 * the tenants it removed, and the activities it added.
 */
export type MainChangeRecord = z.infer<typeof changeRecordSchema>;

export type MainJournalRecord = TenantAddedRecord | MainChangeRecord;

/** The number that tells whether `store.json` holds a record: see `MainFileJournal`. */
export function journalRecordSeq(record: MainJournalRecord): number {
  return 'tenantAdded' in record ? record.activity.seq : record.seq;
}

/**
 * `store.journal`, the main file's `SeqJournal`: a registration, an operator's refresh, a removal or a
 * tenant's new error is durable after one append, where it rewrote `store.json`, which holds every tenant,
 * task and activity (2 MB at 1,000 tenants). A record's number comes from the main file's `nextSeq` (a
 * registration's is its activity's), and `store.json` is written with the `nextSeq` of the moment its text
 * was taken; the store puts back, in order, the records numbered from there on when it opens.
 */
export type MainFileJournal = SeqJournal<MainJournalRecord>;

export const MainFileJournal = {
  open: (path: string) => SeqJournal.open(path, { schema: journalRecordSchema, seqOf: journalRecordSeq }),
};
