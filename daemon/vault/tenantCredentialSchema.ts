import * as z from 'zod';

/** A tenant credential as every vault stores it: checked before it is encrypted and after it is decrypted. */
export const tenantCredentialSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('secret'), clientSecret: z.string().min(1), expiresAt: z.number().int().optional() }),
  z.object({ kind: z.literal('certificate'), certificatePem: z.string().min(1), privateKeyPem: z.string().min(1) }),
]);
