// Layering is enforced here, not hoped for (see docs/architecture.md):
// - each unit (top-level folder, or pipeline/ subfolder) imports only what its layer allows, and
//   no import closes a cycle between units (build/eslint-layers.mjs: base ← libraries ←
//   application ← shells);
// - the core (pipeline/, producer/, model/, glue/) never reaches the desktop shell or the UI,
//   and the renderer never reaches Node: it talks to the backend through renderer/api-client.ts only.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';
import layering from './build/eslint-layers.mjs';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

const coreRestrictions = {
  paths: [
    { name: 'electron', message: 'The core must not depend on the desktop shell (electron/ wires it).' },
    { name: 'react', message: 'The core must not depend on the UI.' },
    { name: 'react-dom', message: 'The core must not depend on the UI.' },
    { name: 'react-dom/client', message: 'The core must not depend on the UI.' },
  ],
  patterns: [
    { group: ['**/renderer', '**/renderer/**'], message: 'The core must not import the renderer.' },
    { group: ['**/electron/**'], message: 'The core must not import the desktop shell.' },
    { group: ['react/*'], message: 'The core must not depend on the UI.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'coverage/**', '**/*.py', 'build/**/*.sh'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.property.name='only'][callee.object.name=/^(it|test|describe)$/]", message: 'Focused tests hide the rest.' }],
    },
  },
  {
    files: ['{pipeline,producer,model,glue,electron,renderer,build}/**/*.{js,mjs,ts,tsx,mts}'],
    ignores: ['**/*.test.*', '**/fixtures/**', '**/test-*'],
    plugins: { pricedrop: layering },
    rules: { 'pricedrop/layers': 'error', 'pricedrop/no-import-cycles': 'error' },
  },
  {
    files: ['**/*.{js,mjs,cjs,ts}'],
    ignores: ['renderer/**'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['pipeline/**', 'producer/**', 'model/**', 'glue/**'],
    rules: { 'no-restricted-imports': ['error', coreRestrictions] },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.map((name) => ({ name, message: 'The renderer runs in a browser: no Node modules.' })),
          { name: 'electron', message: 'The renderer reaches the backend only through renderer/api-client.ts.' },
          { name: 'better-sqlite3', message: 'The renderer reaches data only through renderer/api-client.ts.' },
        ],
        patterns: [
          { regex: '(^|/)(pipeline|model|producer|electron)/(?!app/contract$)', message: 'The renderer reaches the backend only through renderer/api-client.ts (types from pipeline/app/contract).' },
          { group: ['@aws-sdk/*', 'dockerode'], message: 'The renderer runs in a browser: no backend packages.' },
        ],
      }],
    },
  },
  {
    // The headless server's web page: plain browser scripts, served as committed files (no build).
    files: ['model/server/public/**/*.js'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'script' },
  },
);
