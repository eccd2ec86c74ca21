// Bundles each part of the product with esbuild. `node scripts/build.mjs [target ...]` builds the named
// targets (all when none is named).
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const node = { platform: 'node', target: 'node20', bundle: true, sourcemap: true, logLevel: 'warning' };
// Packages that are ESM-only or use import.meta need a real `require` in an ESM bundle.
const esmBanner = {
  js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
};

const targets = {
  sim: { ...node, format: 'esm', entryPoints: ['sim/main.ts'], outfile: 'dist/sim.js', banner: esmBanner },
  // Loading the daemon is part of every restart's wait: CommonJS skips the ES module loader's linking, and
  // a bundle without whitespace and comments is a quarter smaller to read and compile (the source map keeps
  // its positions readable). With zod's locales left out, about 100 ms less CPU before its first line runs.
  // "type": "module" makes a .js file an ES module, hence .cjs.
  daemon: { ...node, format: 'cjs', minifyWhitespace: true, entryPoints: ['daemon/main.ts'], outfile: 'dist/daemon.cjs' },
  // VS Code loads extensions with require(); the package is "type": "module", hence .cjs.
  extension: { ...node, format: 'cjs', entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.cjs', external: ['vscode'] },
  webview: {
    platform: 'browser',
    target: 'es2022',
    bundle: true,
    sourcemap: true,
    logLevel: 'warning',
    format: 'esm',
    entryPoints: ['webview/credentialHealthPage.ts'],
    outfile: 'dist/webview/credentialHealth.js',
  },
};

// Built only when named: the in-editor suite for `npm run test:vscode`.
const onRequest = {
  vscodeSuite: {
    ...node,
    format: 'cjs',
    entryPoints: ['test/vscode/inEditorSuite.ts'],
    outfile: 'dist/test/vscodeSuite.cjs',
    external: ['vscode', 'mocha'],
  },
};
Object.assign(targets, onRequest);

const requested = process.argv.slice(2);
const names = requested.length > 0 ? requested : Object.keys(targets).filter((name) => !(name in onRequest));
for (const name of names) {
  const target = targets[name];
  if (!target) {
    console.error(`build: no target '${name}' (targets: ${Object.keys(targets).join(', ')})`);
    process.exit(2);
  }
  if (!target.entryPoints.every((entry) => existsSync(entry))) {
    if (requested.length > 0) {
      console.error(`build: ${name}: entry ${target.entryPoints.join(', ')} is missing`);
      process.exit(2);
    }
    continue;
  }
  await build(target);
}
