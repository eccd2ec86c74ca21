/**
 * Where Microsoft is, and which certificate authority to trust there. Production uses the public cloud
 * and the system's CAs; tests and the demo point the same code at the simulator and its CA.
 */
export interface MicrosoftEndpoints {
  /** `https://login.microsoftonline.com`, or the simulator's origin. */
  authorityHost: string;
  /** `https://graph.microsoft.com`, or the simulator's origin. */
  graphHost: string;
  /** PEM of an extra CA to trust (the simulator's); the system's CAs otherwise. */
  caPem?: string | undefined;
  /** Bound on waiting for Microsoft's answer headers and body. */
  requestTimeoutMs?: number | undefined;
}

export const microsoftCloud: MicrosoftEndpoints = {
  authorityHost: 'https://login.microsoftonline.com',
  graphHost: 'https://graph.microsoft.com',
};

export const graphScope = 'https://graph.microsoft.com/.default';
