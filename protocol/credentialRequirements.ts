const DAY_MS = 24 * 60 * 60 * 1000;
const auditLogRole = 'AuditLog.Read.All';

/**
 * What credential health is measured against, shared by the daemon's check and the extension's page so
 * the two cannot disagree on what is missing or when an expiry is close.
 */
export const credentialRequirements = {
  /** The least-privilege application permissions the product needs to read, lock and unlock users. */
  requiredRoles: ['User.Read.All', 'User.EnableDisableAccount.All', 'User.RevokeSessions.All'],
  /** Only adds who changed a user outside the product. */
  optionalRoles: [auditLogRole],
  /** Reads the directory audit log, which names who changed a user. */
  auditLogRole,
  /** A secret or certificate expiring sooner than this is warned about. */
  expiryWarningMs: 30 * DAY_MS,
} as const;
