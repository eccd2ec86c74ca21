import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('..', import.meta.url));
const packageScripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/**
 * The steps `npm run <name>` takes to reach a step that `isGoal` accepts, following `npm run` steps of
 * `&&` chains, or undefined when it never does. A step with `||`, `;`, `|` or `&` in it could swallow a
 * failure, so such a chain is not followed.
 */
function pathTo(scripts: Record<string, string>, name: string, isGoal: (step: string) => boolean, seen: readonly string[] = []): string[] | undefined {
  const script = scripts[name];
  if (script === undefined || seen.includes(name)) return undefined;
  const steps = script.split('&&').map((step) => step.trim());
  if (steps.some((step) => /[|;&]/.test(step))) return undefined;
  for (const step of steps) {
    if (isGoal(step)) return [name, step];
    const nested = /^npm run ([\w:-]+)$/.exec(step)?.[1];
    const path = nested === undefined ? undefined : pathTo(scripts, nested, isGoal, [...seen, name]);
    if (path) return [name, ...path];
  }
  return undefined;
}

function isStrictLint(step: string): boolean {
  const [command, ...args] = step.split(/\s+/);
  const maxWarnings = args.indexOf('--max-warnings');
  return command === 'eslint' && maxWarnings >= 0 && args[maxWarnings + 1] === '0' && !args.includes('--quiet') && args.at(-1) === '.';
}

function sourceFiles(folder: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name)) : /\.(ts|mts|mjs|cjs)$/.test(entry.name) ? [join(dir, entry.name)] : [],
    );
  return walk(join(root, folder));
}

describe('lint gate: ESLint runs in the test scripts and covers the code', () => {
  for (const name of ['test', 'test:unit']) {
    it(`runs eslint with --max-warnings 0 over the repository in \`npm ${name === 'test' ? 'test' : `run ${name}`}\`, failing it when lint fails`, () => {
      const path = pathTo(packageScripts, name, isStrictLint);
      assert.ok(path, `npm ${name} does not reach "eslint --max-warnings 0 ." through && steps: ${packageScripts[name]}`);
    });
  }

  it('tells a gated script from one that is not', () => {
    assert.equal(pathTo(packageScripts, 'typecheck', isStrictLint), undefined);
    const lint = 'eslint --max-warnings 0 .';
    assert.deepEqual(pathTo({ test: 'npm run unit && mocha', unit: `tsc && ${lint}` }, 'test', isStrictLint), ['test', 'unit', lint]);
    assert.equal(pathTo({ test: 'npm run lint || true', lint }, 'test', isStrictLint), undefined);
    assert.equal(pathTo({ test: 'npm run lint; mocha', lint }, 'test', isStrictLint), undefined);
    assert.equal(isStrictLint('eslint --max-warnings 0 --quiet .'), false);
    assert.equal(isStrictLint('eslint --max-warnings 10 .'), false);
    assert.equal(isStrictLint('eslint .'), false);
  });

  it('lints every source folder and ignores only build output and installed or downloaded code', async () => {
    const eslint = new ESLint({ cwd: root });
    const linted = ['daemon', 'extension', 'protocol', 'sim', 'webview', 'test', 'scripts'].flatMap(sourceFiles);
    assert.ok(linted.some((file) => file.endsWith('.mjs')) && linted.some((file) => file.endsWith('.ts')));
    const ignored: string[] = [];
    for (const file of linted) if (await eslint.isPathIgnored(file)) ignored.push(file);
    assert.deepEqual(ignored, []);
    for (const file of ['dist/daemon.cjs', 'node_modules/zod/index.js', '.vscode-test/x.js', 'test-output/x.mjs']) {
      assert.equal(await eslint.isPathIgnored(join(root, file)), true, file);
    }
  });

  it('holds TypeScript to the house rules, with type information', async () => {
    const config = (await new ESLint({ cwd: root }).calculateConfigForFile(join(root, 'daemon/daemon.ts'))) as {
      rules: Record<string, unknown[]>;
      languageOptions: { parserOptions: { projectService?: unknown } };
    };
    assert.ok(config.languageOptions.parserOptions.projectService, 'typed linting');
    for (const rule of [
      '@typescript-eslint/no-explicit-any',
      '@typescript-eslint/consistent-type-imports',
      '@typescript-eslint/no-floating-promises',
      '@typescript-eslint/no-misused-promises',
      '@typescript-eslint/no-unused-vars',
      'eqeqeq',
      'no-restricted-syntax',
    ]) {
      assert.equal(config.rules[rule]?.[0], 2, `${rule} is an error`);
    }
  });

  it('refuses a default export, a loose equality and an unused variable in a script', async () => {
    const [result] = await new ESLint({ cwd: root }).lintText('const unused = 1;\nexport default function build(a) {\n  return a == 1;\n}\n', {
      filePath: join(root, 'scripts/example.mjs'),
    });
    assert.deepEqual(result?.messages.map((message) => message.ruleId).sort(), ['eqeqeq', 'no-restricted-syntax', 'no-unused-vars']);
  });
});
