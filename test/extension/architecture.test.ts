import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

// What may import `vscode`: the thin layer of views and command handlers, and the entry point.
const vscodeLayer = [/^extension\/views\/(?!credentialHealthHtml\.ts$)/, /^extension\/commands\/(handlers|prompts)\//, /^extension\/commands\/(registerCommands|commandServices|commandHandlers)\.ts$/, /^extension\/(extension|m365Extension)\.ts$/];

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
