import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(folder: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name)) : /\.(ts|mts|mjs|cjs)$/.test(entry.name) ? [join(dir, entry.name)] : [],
    );
  return walk(join(root, folder)).map((file) => repoPath(file));
}

function repoPath(file: string): string {
  return relative(root, file).split('\\').join('/');
}

function within(path: string, folder: string): boolean {
  return path === folder || path.startsWith(`${folder}/`);
}

/**
 * What a module imports, as repository paths for relative specifiers and as written for packages.
 * Counts every form: value and type-only imports, re-exports, `import()` (also in types) and require().
 */
function importsOf(file: string, text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName }) =>
    fileName.startsWith('.') ? repoPath(resolve(root, dirname(file), fileName)) : fileName,
  );
}

type RuleName = 'lowdb' | 'pg' | 'server' | 'daemon' | 'sim' | 'protocol';

interface ImportRule {
  /** Files the rule applies to. */
  readonly applies: (file: string) => boolean;
  /** The repository folders or packages those files must not import. */
  readonly forbidden: readonly string[];
}

const everyFolder = ['daemon', 'extension', 'protocol', 'sim', 'webview', 'scripts', 'test'];

const rules: Record<RuleName, ImportRule> = {
  lowdb: { applies: (file) => !within(file, 'daemon/store'), forbidden: ['lowdb'] },
  // The shared database is reached by the parts kept in it; tests and scripts start and inspect it.
  pg: {
    applies: (file) =>
      !['daemon/store/postgres', 'daemon/team', 'daemon/vault', 'test', 'scripts'].some((folder) => within(file, folder)),
    forbidden: ['pg'],
  },
  server: { applies: (file) => within(file, 'daemon/server'), forbidden: ['daemon/store', 'daemon/microsoft'] },
  daemon: { applies: (file) => within(file, 'daemon'), forbidden: ['sim', 'extension'] },
  sim: { applies: (file) => within(file, 'sim'), forbidden: ['daemon'] },
  protocol: { applies: (file) => within(file, 'protocol'), forbidden: ['daemon', 'extension', 'sim', 'webview'] },
};

function offences(rule: ImportRule): string[] {
  const found = new Set<string>();
  for (const file of everyFolder.flatMap(sourceFiles).filter(rule.applies)) {
    for (const target of importsOf(file, readFileSync(join(root, file), 'utf8'))) {
      for (const forbidden of rule.forbidden) if (within(target, forbidden)) found.add(`${file} imports ${forbidden}`);
    }
  }
  return [...found].sort();
}

function assertRule(name: RuleName): void {
  const found = offences(rules[name]);
  assert.deepEqual(found, [], `imports that break the rule: ${found.join('; ')}`);
}

describe('daemon architecture: routes → services → store, each part apart', () => {
  it('reads every form of import, type-only ones included', () => {
    const text = [
      "import type { Store } from '../../store/store';",
      "import { a,\n  type B } from './near';",
      "export { c } from '../../microsoft/tenantGraphClient';",
      "import '../../../sim/simServer';",
      "const low = await import('lowdb/node');",
      "type Late = typeof import('../../../protocol/daemonApi');",
      "const required = require('express');",
    ].join('\n');
    assert.deepEqual(importsOf('daemon/server/routes/x.ts', text), [
      'daemon/store/store',
      'daemon/server/routes/near',
      'daemon/microsoft/tenantGraphClient',
      'sim/simServer',
      'lowdb/node',
      'protocol/daemonApi',
      'express',
    ]);
  });

  it('imports lowdb only under daemon/store/', () => {
    assert.ok(sourceFiles('daemon/store').some((file) => importsOf(file, readFileSync(join(root, file), 'utf8')).some((target) => within(target, 'lowdb'))), 'the store uses lowdb');
    assertRule('lowdb');
  });

  it('imports pg only under daemon/store/postgres/, daemon/team/ and daemon/vault/', () => {
    assert.ok(sourceFiles('daemon/store/postgres').some((file) => importsOf(file, readFileSync(join(root, file), 'utf8')).some((target) => within(target, 'pg'))), 'the shared store uses pg');
    assertRule('pg');
  });

  it('keeps the store and Microsoft out of daemon/server/ (routes and app), type-only imports too', () => {
    assertRule('server');
  });

  it('keeps the simulator and the extension out of the daemon', () => {
    assertRule('daemon');
  });

  it('keeps the daemon out of the simulator', () => {
    assertRule('sim');
  });

  it('keeps protocol/ free of the daemon, the extension, the simulator and the webview', () => {
    assertRule('protocol');
  });

  it('has no barrel index files in the daemon or protocol/, which ESLint cannot see', () => {
    const barrels = [...sourceFiles('daemon'), ...sourceFiles('protocol')].filter((file) => /(^|\/)index\.(ts|mts|mjs|cjs)$/.test(file));
    assert.deepEqual(barrels, []);
  });

  it('loads every daemon module under plain Node', async () => {
    for (const file of sourceFiles('daemon')) {
      // The entry point starts a daemon when loaded; it is run as a process below instead.
      if (file === 'daemon/main.ts') continue;
      await import(join(root, file));
    }
  });

  it('runs the daemon entry point under plain Node far enough to print its version', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'daemon/main.ts'), '--version'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((done) => child.on('exit', done));
    assert.equal(code, 0, output);
    assert.match(output, /^\d+\.\d+\.\d+\n$/);
  });
});
