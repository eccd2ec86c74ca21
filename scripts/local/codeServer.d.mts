import type { ChildProcess } from 'node:child_process';

export const repoRoot: string;
export const vscodeTestDir: string;
export function freePort(): Promise<number>;
export function installExtension(extensionsDir: string): Promise<string>;
export function startCodeServer(options: {
  baseDir: string;
  port: number;
  settings?: Record<string, unknown>;
  folder?: string;
  onLine?: (name: string, line: string, stream: 'stdout' | 'stderr') => void;
}): Promise<{ child: ChildProcess; url: string; userDataDir: string; extensionsDir: string; workspace: string }>;
