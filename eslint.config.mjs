// The house rules a linter can check, run by `npm run lint` with --max-warnings 0. Each rule here either
// catches a fault or keeps a written house rule; rules of taste stay off, so a finding always means
// something. The architecture (who may import whom) is checked by test/*/architecture.test.ts.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// A leading `_` marks a parameter or binding that is unused on purpose (a callback's shape, a skipped
// array slot); anything else unused is dead code or a value that was meant to be used.
const unusedVariables = [
  'error',
  {
    argsIgnorePattern: '^_',
    varsIgnorePattern: '^_',
    caughtErrorsIgnorePattern: '^_',
    destructuredArrayIgnorePattern: '^_',
    ignoreRestSiblings: true,
  },
];

const namedExportsOnly = [
  'error',
  { selector: 'ExportDefaultDeclaration', message: 'No default exports: export the module\'s one primary name, named like the file.' },
  { selector: 'ExportSpecifier[exported.name="default"]', message: 'No default exports: export the module\'s one primary name, named like the file.' },
];

export default defineConfig(
  {
    ignores: ['dist/', 'node_modules/', '.vscode-test/', 'test-output/'],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.mjs', '**/*.cjs'],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    extends: [js.configs.recommended],
    rules: {
      eqeqeq: ['error', 'always'],
      'no-unused-vars': unusedVariables,
      'no-restricted-syntax': namedExportsOnly,
      'no-template-curly-in-string': 'error',
    },
  },
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': unusedVariables,
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // A promise returned un-awaited inside `try` skips its `catch` and runs its `finally` too early.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // A new member of a union (a task kind, a tenant status) must not fall through a switch unhandled.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // The platform's own contract: a signal's abort rejects with `signal.reason`, whatever it holds.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // Taste, not faults: an `async` function without `await` still turns a throw into a rejection,
      // `unknown | Promise<unknown>` documents intent, and a redundant assertion is only noise.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    // Tests and scripts read Graph's answers through graph-client, whose `get()` is typed `any`, and
    // assert their shape at run time; the product itself must not let an `any` flow anywhere.
    files: ['test/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The product writes through its loggers, which redact secrets and reach the operator's log; a stray
    // console line does neither.
    files: ['daemon/**', 'extension/**', 'protocol/**', 'sim/**', 'webview/**'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: globals.node, sourceType: 'module' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { globals: globals.node, sourceType: 'commonjs' },
  },
  {
    // ESLint reads its configuration from this file's default export.
    files: ['eslint.config.mjs'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
