import { createHash, X509Certificate, type KeyObject } from 'node:crypto';

/** Application permissions (app roles) on Microsoft Graph that the simulator knows. */
export const graphRoles = [
  'User.Read.All',
  'User.ReadWrite.All',
  'User.EnableDisableAccount.All',
  'User.RevokeSessions.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
  'AuditLog.Read.All',
  'Application.Read.All',
  'Organization.Read.All',
  'DelegatedAdminRelationship.Read.All',
  'DelegatedAdminRelationship.ReadWrite.All',
] as const;
export type GraphRole = (typeof graphRoles)[number];

export interface SimSecret {
  keyId: string;
  displayName: string;
  value: string;
  hint: string;
  startDateTime: string;
  endDateTime: string;
}

export interface SimCertificate {
  keyId: string;
  displayName: string;
  pem: string;
  publicKey: KeyObject;
  /** Base64url of the SHA-1 and SHA-256 thumbprints, as they arrive in `x5t` / `x5t#S256`. */
  x5t: string;
  x5tS256: string;
  thumbprintHex: string;
  startDateTime: string;
  endDateTime: string;
}

/** An app registration in its home tenant, with its service principal and granted Graph roles. */
export interface SimApp {
  appId: string;
  objectId: string;
  servicePrincipalId: string;
  displayName: string;
  enabled: boolean;
  hasServicePrincipal: boolean;
  /** Application permissions the app asks for. */
  roles: GraphRole[];
  /** Whether an admin granted them: without consent the token comes without `roles`. */
  consentGranted: boolean;
  /** Holds a privileged admin role, so it may disable privileged users. */
  privilegedAdmin: boolean;
  /** "Accounts in any organizational directory": other tenants may consent and get a service principal. */
  multiTenant: boolean;
  /** Where the admin consent endpoint may send the admin back to. */
  redirectUris: string[];
  secrets: SimSecret[];
  certificates: SimCertificate[];
}

export function certificateFromPem(pem: string, keyId: string, displayName: string): SimCertificate {
  const certificate = new X509Certificate(pem);
  const der = certificate.raw;
  return {
    keyId,
    displayName,
    pem,
    publicKey: certificate.publicKey,
    x5t: createHash('sha1').update(der).digest('base64url'),
    x5tS256: createHash('sha256').update(der).digest('base64url'),
    thumbprintHex: createHash('sha1').update(der).digest('hex').toUpperCase(),
    startDateTime: new Date(certificate.validFrom).toISOString(),
    endDateTime: new Date(certificate.validTo).toISOString(),
  };
}

/** The roles a fresh token for this app carries: none until consent is granted. */
export function grantedRoles(app: SimApp): GraphRole[] {
  return app.consentGranted ? app.roles : [];
}
