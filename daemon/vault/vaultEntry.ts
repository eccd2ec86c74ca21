import * as z from 'zod';

/** One credential as `vault.json` and its journal hold it: AES-256-GCM ciphertext bound to the tenant id. */
export const vaultEntrySchema = z.object({
  iv: z.base64(),
  tag: z.base64(),
  ciphertext: z.base64(),
  updatedAt: z.number().int().nonnegative(),
});
export type VaultEntry = z.infer<typeof vaultEntrySchema>;
