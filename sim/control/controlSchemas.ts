import { z } from 'zod';
import { graphRoles } from '../directory/simApp';

const role = z.enum(graphRoles);
const isoDate = z.iso.datetime({ offset: true });
const redirectUris = z.array(z.url({ protocol: /^https?$/, error: 'an absolute http(s) URL' })).max(256);

export const appSpecSchema = z.strictObject({
  appId: z.uuid().optional(),
  displayName: z.string().min(1).max(120).optional(),
  secret: z.string().min(1).max(200).nullable().optional(),
  secretExpiresAt: isoDate.optional(),
  certificatePem: z.string().includes('BEGIN CERTIFICATE').optional(),
  roles: z.array(role).optional(),
  consentGranted: z.boolean().optional(),
  enabled: z.boolean().optional(),
  hasServicePrincipal: z.boolean().optional(),
  privilegedAdmin: z.boolean().optional(),
  multiTenant: z.boolean().optional(),
  redirectUris: redirectUris.optional(),
});

export const userMixSchema = z.strictObject({
  disabledShare: z.number().min(0).max(1).optional(),
  onPremisesShare: z.number().min(0).max(1).optional(),
  privilegedShare: z.number().min(0).max(1).optional(),
  hostileShare: z.number().min(0).max(1).optional(),
});

export const tenantSpecSchema = z.strictObject({
  id: z.uuid().optional(),
  domain: z
    .string()
    .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i, 'a domain such as contoso.onmicrosoft.com')
    .optional(),
  displayName: z.string().min(1).max(256).optional(),
  users: z.number().int().min(0).max(300_000).optional(),
  seed: z.number().int().optional(),
  userMix: userMixSchema.optional(),
  app: appSpecSchema.optional(),
});

export const seedUsersSchema = z.strictObject({
  count: z.number().int().min(1).max(300_000),
  seed: z.number().int().optional(),
  userMix: userMixSchema.optional(),
});

export const addUserSchema = z.strictObject({
  displayName: z.string().min(1).max(256),
  userPrincipalName: z.string().includes('@').optional(),
  accountEnabled: z.boolean().optional(),
  onPremisesSyncEnabled: z.boolean().optional(),
  privilegedRole: z.string().min(1).nullable().optional(),
});

/** An out-of-band change, as an admin makes it in the Entra admin center. */
export const outOfBandChangeSchema = z.strictObject({
  accountEnabled: z.boolean().optional(),
  displayName: z.string().min(1).max(256).optional(),
  actor: z
    .strictObject({ userPrincipalName: z.string().includes('@'), displayName: z.string().optional() })
    .optional(),
});

export const appChangeSchema = z.strictObject({
  roles: z.array(role).optional(),
  consentGranted: z.boolean().optional(),
  enabled: z.boolean().optional(),
  hasServicePrincipal: z.boolean().optional(),
  privilegedAdmin: z.boolean().optional(),
  multiTenant: z.boolean().optional(),
  redirectUris: redirectUris.optional(),
});

export const addSecretSchema = z.strictObject({
  value: z.string().min(1).max(200).optional(),
  expiresAt: isoDate.optional(),
  /** Rotation that removes the old secrets at once. */
  replaceExisting: z.boolean().optional(),
});

export const addCertificateSchema = z.strictObject({ pem: z.string().includes('BEGIN CERTIFICATE') });

export const faultsSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(120_000).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  errorStatus: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).optional(),
  resetRate: z.number().min(0).max(1).optional(),
  malformedRate: z.number().min(0).max(1).optional(),
  tokenOutage: z.boolean().optional(),
});

export const throttlingSchema = z.strictObject({
  enabled: z.boolean().optional(),
  resourceUnitsPer10s: z.number().int().min(1).nullable().optional(),
  writesPer150s: z.number().int().min(1).nullable().optional(),
});

export const auditSettingsSchema = z.strictObject({ delayMs: z.number().int().min(0) });

export const invalidateDeltaSchema = z.strictObject({
  mode: z.enum(['syncStateNotFound', 'resyncRequired']).optional(),
});

export const advanceClockSchema = z.strictObject({ advanceMs: z.number().int().min(0) });

/** How the tenant's admin consent endpoint answers: a non-admin signing in, or fewer roles granted. */
export const consentPolicySchema = z.strictObject({
  signedInUserIsAdmin: z.boolean().optional(),
  grantableRoles: z.array(role).nullable().optional(),
});

/** Admin consent granted directly, without the consent page. */
export const grantConsentSchema = z.strictObject({
  appId: z.uuid(),
  roles: z.array(role).optional(),
});

export const delegatedAdminRelationshipSchema = z.strictObject({
  tenantId: z.uuid(),
  displayName: z.string().min(1).max(256).optional(),
  active: z.boolean().optional(),
});

export const delegatedAdminRelationshipChangeSchema = z.strictObject({ active: z.boolean() });
