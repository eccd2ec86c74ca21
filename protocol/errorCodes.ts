/**
 * Every code the daemon answers with (`error.code` of an API error) or records (a task's error, a
 * system-log entry), in one spelling. Clients branch on these, so a code is never reworded; a new
 * failure gets a new code here first.
 *
 * Microsoft's own codes (`AADSTS7000215`, Graph's `Authorization_RequestDenied`, a socket's
 * `ECONNRESET`) are not ours and are not listed: they are quoted only where a record describes what
 * Microsoft answered (a tenant's last error, a credential-health finding) or in an error's details.
 */
export const ERROR_CODES = [
  // The request itself.
  /** A field is missing or invalid; `details.field` names it. */
  'VALIDATION_FAILED',
  /** The request could not be read for another reason the message gives. */
  'BAD_REQUEST',
  /** The body is over the daemon's limit. */
  'BODY_TOO_LARGE',
  /** The body is not valid JSON. */
  'INVALID_JSON',
  /** The route takes a JSON body and the request sent another content type (415). */
  'UNSUPPORTED_MEDIA_TYPE',
  /** The route takes no body and the request sent one it would have ignored. */
  'BODY_NOT_ACCEPTED',
  /** The body's content encoding is not one the daemon reads. */
  'UNSUPPORTED_ENCODING',
  /** The body's charset is not one the daemon reads. */
  'UNSUPPORTED_CHARSET',
  /** The caller went away while the body was being read. */
  'REQUEST_ABORTED',
  /** No valid bearer token: read it from `daemon.json`. */
  'UNAUTHORIZED',
  /** `Host` is not the daemon's own loopback address (DNS rebinding). */
  'FOREIGN_HOST',
  /** A browser request from a web page (it carried `Origin`). */
  'CROSS_ORIGIN',
  /** The engineer's role does not allow this; `details.requiredRole` names the role that does. */
  'FORBIDDEN',
  /** No such route. */
  'NOT_FOUND',
  /** The caller has as many event streams open as the daemon allows one caller (429): close one first. */
  'TOO_MANY_STREAMS',

  // What the request names.
  /** No tenant with that id. */
  'TENANT_NOT_FOUND',
  /** The tenant is already registered. */
  'TENANT_EXISTS',
  /** No app profile with that id or name. */
  'APP_PROFILE_NOT_FOUND',
  /** An app profile with that name already exists. */
  'APP_PROFILE_EXISTS',
  /** The app profile is still used by tenants (`details.tenantIds`): remove them first. */
  'APP_PROFILE_IN_USE',
  /** The tenant signs in with an app profile: rotate the profile's credentials instead of the tenant's. */
  'TENANT_ON_APP_PROFILE',
  /** No admin consent request with that state is waiting: unknown, expired or already answered. */
  'CONSENT_STATE_UNKNOWN',
  /** The list of tenants to add is longer than the daemon takes at once. */
  'BATCH_TOO_LARGE',
  /** A task's tenant was removed before the task ran. */
  'TENANT_REMOVED',
  /** No user with that id in the tenant (in the daemon's cache, or in Microsoft 365 any more). */
  'USER_NOT_FOUND',
  /** No task with that id. */
  'TASK_NOT_FOUND',
  /** The task is not in a state that allows the change. */
  'TASK_STATE',

  // Lock and unlock.
  /** The user is synced from on-premises AD; repeat with the on-premises override to act anyway. */
  'ON_PREMISES_USER',
  /** Microsoft Graph refused the change (403): a missing permission or a privileged user. */
  'GRAPH_REFUSED',
  /** Microsoft Graph could not be reached or failed; trying again later may work. */
  'GRAPH_UNAVAILABLE',
  /** The tenant's credentials, consent or permissions fail: the daemon cannot connect to it. */
  'TENANT_DISCONNECTED',
  /** The user is locked, but revoking its sign-in sessions failed. */
  'REVOKE_FAILED',
  /** The lock or unlock was made in Microsoft 365, but the daemon could not record it; the message says which. */
  'ACTION_NOT_RECORDED',

  // Credentials and credential health.
  /** No credentials are stored for the tenant: rotate them to add them. */
  'CREDENTIALS_MISSING',
  /** A "Check account status" task found that no token can be had; the message says why. */
  'CREDENTIAL_CHECK_FAILED',
  /** The tenant's secret or certificate expires soon, or has expired. */
  'CREDENTIAL_EXPIRING',
  /** The app lacks a permission the product needs. */
  'MISSING_PERMISSIONS',
  /** The token carries no application permissions: admin consent was never granted or was revoked. */
  'NO_ROLES',

  // Tasks.
  /** The task was running when the daemon stopped or restarted, and ended in ERROR. */
  'INTERRUPTED',
  /** This daemon has no handler for the task's kind. */
  'NO_TASK_HANDLER',

  // The daemon's own files and start-up.
  /** The daemon is shutting down and takes no more writes. */
  'STORE_CLOSED',
  /** A store file cannot be read. */
  'STORE_UNREADABLE',
  /** A store or vault file was written by a newer daemon. */
  'STORE_SCHEMA_TOO_NEW',
  /** A store file does not have the expected shape. */
  'STORE_INVALID',
  /** A step of the shared database's schema failed; nothing of that step was kept. */
  'STORE_MIGRATION_FAILED',
  /** Another daemon holds the data directory. */
  'DATA_DIR_LOCKED',
  /** Another daemon was taking the data directory at the same moment. */
  'DATA_DIR_LOCK_CONTENDED',
  /** The data directory or a file in it is open to other users and the daemon cannot tighten it. */
  'DATA_DIR_NOT_PRIVATE',
  /** The vault exists but its key does not. */
  'VAULT_KEY_MISSING',
  /** The vault key is not a valid key. */
  'VAULT_KEY_INVALID',
  /** The vault cannot be read or decrypted. */
  'VAULT_UNREADABLE',
  /** A vault file is readable by other users. */
  'VAULT_FILE_EXPOSED',
  /** The shared vault was written with another key than the one this daemon was given (or its key was rotated since). */
  'VAULT_KEY_MISMATCH',
  /** A setting has a bad value; the message names it. */
  'CONFIG_INVALID',
  /** The API port could not be opened. */
  'LISTEN_FAILED',
  /** No engineer by that name in the shared database (the `users` command). */
  'ENGINEER_NOT_FOUND',
  /** An engineer by that name already exists and is not revoked (the `users` command). */
  'ENGINEER_EXISTS',

  /** A bug or an outage inside the daemon; its log has the details under the error id. */
  'INTERNAL_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const known: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(code: string): code is ErrorCode {
  return known.has(code);
}
