import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a TypeScript file in its own Node process, through tsx as the tests themselves run. */
export function spawnTypeScript(scriptUrl: URL, args: readonly string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', fileURLToPath(scriptUrl), ...args], {
    cwd: repoRoot,
    stdio: 'pipe',
    // NODE_ENV=test on purpose: lowdb's presets would quietly switch to memory; the store must not.
    env: { ...process.env, NODE_ENV: 'test' },
  });
}

/** Resolves with the first stdout line matching `pattern`; rejects if the process exits first. */
export function waitForLine(child: ChildProcessWithoutNullStreams, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      const match = lines.find((line) => pattern.test(line));
      if (match !== undefined) {
        cleanup();
        resolve(match);
      }
    };
    const onStderr = (chunk: Buffer): void => {
      stderr += chunk.toString('utf8');
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`child exited (${code}) before printing ${pattern}: ${stderr}`));
    };
    const cleanup = (): void => {
      child.stdout.off('data', onData);
      child.stderr.off('data', onStderr);
      child.off('exit', onExit);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onStderr);
    child.on('exit', onExit);
  });
}

/** Sends SIGKILL (kill -9) and resolves once the process is gone. */
export function killHard(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
