import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

// What may import `vscode`: the thin layer of views and command handlers, and the entry point.
const vscodeLayer = [/^extension\/views\/(?!credentialHealthHtml\.ts$)/, /^extension\/commands\/(handlers|prompts)\//, /^extension\/commands\/(registerCommands|commandServices|commandHandlers)\.ts$/, /^extension\/(extension|m365Extension)\.ts$/];

/**
 * The extension's folders, lowest first. Each imports only from the folders below it: shared vocabulary
 * ← the daemon's client ← the model ← the actions ← commands and views (apart from each other) ← the
 * entry point. The webview page sits outside: the extension may import its types, it imports nothing
 * from the extension.
 */
const LAYERS: ReadonlyArray<readonly string[]> = [['common'], ['client'], ['model'], ['actions'], ['commands', 'views'], ['(entry point)']];

function layerOf(folder: string): number {
  return LAYERS.findIndex((layer) => layer.includes(folder));
}

/** `extension/model/statusModel.ts` → `model`; files at the top of extension/ are the entry point. */
function folderOf(name: string): string {
  const parts = name.split('/');
  return parts.length === 2 ? '(entry point)' : (parts[1] as string);
}

/** Every module a file imports (static, re-exported or dynamic), as paths from the root, or bare names. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)'([^']+)'/gm)].map((match) => match[1] as string);
  return specifiers.map((specifier) => (specifier.startsWith('.') ? relative(root, join(dirname(file), specifier)).split('\\').join('/') : specifier));
}

describe('extension architecture: one-way layers', () => {
  const extensionFiles = sourceFiles(join(root, 'extension')).map((file) => ({ file, name: relative(root, file).split('\\').join('/') }));

  it('knows the folder of every extension module', () => {
    const unknown = [...new Set(extensionFiles.map(({ name }) => folderOf(name)))].filter((folder) => layerOf(folder) < 0);
    assert.deepEqual(unknown, [], 'a new folder under extension/ needs its place in LAYERS');
  });

  it('lets each folder import only from the folders below it', () => {
    const offenders: string[] = [];
    for (const { file, name } of extensionFiles) {
      const from = folderOf(name);
      for (const target of importsOf(file)) {
        if (!target.startsWith('extension/')) continue;
        const to = folderOf(target);
        if (to === from) continue;
        if (layerOf(to) >= layerOf(from)) offenders.push(`${name} → ${target}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('keeps vscode, commands and views out of the model', () => {
    const offenders = extensionFiles
      .filter(({ name }) => folderOf(name) === 'model')
      .flatMap(({ file, name }) => importsOf(file).filter((target) => target === 'vscode' || /^extension\/(commands|views)\//.test(target)).map((target) => `${name} → ${target}`));
    assert.deepEqual(offenders, []);
  });

  it('has commands and views reach the daemon only through the actions', () => {
    const offenders = extensionFiles
      .filter(({ name }) => ['commands', 'views'].includes(folderOf(name)))
      .flatMap(({ file, name }) => importsOf(file).filter((target) => target === 'extension/client/daemonClient').map((target) => `${name} → ${target}`));
    assert.deepEqual(offenders, []);
  });

  it('has the webview page import nothing from the extension, and neither of them the daemon or the simulator', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(join(root, 'webview'))) {
      const name = relative(root, file).split('\\').join('/');
      offenders.push(...importsOf(file).filter((target) => /^(extension|daemon|sim)\//.test(target)).map((target) => `${name} → ${target}`));
    }
    for (const { file, name } of extensionFiles) {
      offenders.push(...importsOf(file).filter((target) => /^(daemon|sim)\//.test(target)).map((target) => `${name} → ${target}`));
    }
    assert.deepEqual(offenders, []);
  });
});

describe('extension architecture: the model is apart from the view', () => {
  it('keeps vscode out of the model, the daemon client, the command table and the webview', () => {
    const offenders: string[] = [];
    for (const file of [...sourceFiles(join(root, 'extension')), ...sourceFiles(join(root, 'webview'))]) {
      const name = relative(root, file).split('\\').join('/');
      if (vscodeLayer.some((pattern) => pattern.test(name))) continue;
      if (/from 'vscode'|require\('vscode'\)/.test(readFileSync(file, 'utf8'))) offenders.push(name);
    }
    assert.deepEqual(offenders, []);
  });

  it('loads every vscode-free module under plain Node', async () => {
    for (const file of sourceFiles(join(root, 'extension'))) {
      const name = relative(root, file).split('\\').join('/');
      if (vscodeLayer.some((pattern) => pattern.test(name))) continue;
      await import(file);
    }
  });

  it('gives the page only types from the protocol file, so zod stays out of the page', () => {
    const page = readFileSync(join(root, 'webview/credentialHealthPage.ts'), 'utf8');
    assert.match(page, /^import type \{[^}]+\} from '\.\/credentialHealthProtocol';$/m);
    assert.doesNotMatch(page, /^import \{[^}]+\} from '\.\/credentialHealthProtocol';$/m);
  });

  it('follows the house rules: no default exports, no barrel index files, no `any`', () => {
    for (const file of [...sourceFiles(join(root, 'extension')), ...sourceFiles(join(root, 'webview'))]) {
      const name = relative(root, file);
      const text = readFileSync(file, 'utf8');
      assert.doesNotMatch(text, /export default/, name);
      assert.doesNotMatch(text, /: any\b|as any\b|<any>/, name);
      assert.ok(!name.endsWith('index.ts'), name);
    }
  });
});
