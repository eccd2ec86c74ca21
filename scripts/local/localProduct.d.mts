import type { ChildProcess } from 'node:child_process';

export interface SimState {
  url: string;
  caPath: string;
  pid: number;
  demoTenants: Array<{ tenantId: string; domain: string; displayName: string; state: string; appId: string; clientSecret: string; secretExpiresAt: string | null }>;
  /** The demo partner (MSP) and its GDAP customers; null when the simulator runs without `--demo`. */
  demoPartner: {
    tenantId: string;
    domain: string;
    displayName: string;
    appId: string;
    clientSecret: string;
    redirectUri: string;
    customers: Array<{ tenantId: string; domain: string; displayName: string; consented: boolean }>;
  } | null;
}

export interface DaemonState {
  url: string;
  port: number;
  pid: number;
  token: string;
  version: string;
}

export interface LocalProduct {
  sim: SimState;
  simDir: string;
  daemon: DaemonState;
  daemonDir: string;
  daemonArgs: string[];
  registered: Array<{ demo: SimState['demoTenants'][number]; tenant: { id: string; status: string; displayName: string } }>;
  /** The demo partner's app as an app profile, when the demo tenants were registered. */
  appProfile: { id: string; name: string; partnerTenant: string; appId: string } | null;
  processes: ChildProcess[];
  simProcess: ChildProcess;
  daemonProcess: ChildProcess;
  stop(): Promise<void>;
}

export function stopProcess(child: ChildProcess, timeoutMs?: number): Promise<void>;

export function startLocalProduct(options: {
  dataDir: string;
  pollInterval?: string;
  simPort?: string;
  registerDemoTenants?: boolean;
  onLine?: (name: string, line: string, stream: 'stdout' | 'stderr') => void;
}): Promise<LocalProduct>;
