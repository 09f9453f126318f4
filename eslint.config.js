// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Core folders are sans-I/O (STYLE.md §1, §6): no clock, no randomness, no timers, no Node APIs.
// They receive time and randomness from the caller, so the simulator can drive them deterministically.
const coreFolders = [
  'src/protocol/**/*.ts',
  'src/scheduling/**/*.ts',
  'src/master/**/*.ts',
  'src/worker/**/*.ts',
  'src/executor/**/*.ts',
  'src/task/**/*.ts',
  'src/driver/**/*.ts',
  'src/app/**/*.ts',
  // Pages rendered from read-only snapshots (STYLE.md §1): the UI server in src/io/http/ serves them.
  'src/ui/**/*.ts',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'work/**', 'logs/**', '.flint/**', 'dist/**', 'lib/**', '.stryker-tmp/**', 'reports/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // The pages' scripts run in the browser (served from static/ by the UI server), as ES modules.
    files: ['static/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'EventSource', 'HTMLFormElement', 'HTMLElement', 'URL', 'URLSearchParams', 'fetch', 'requestAnimationFrame', 'getComputedStyle', 'devicePixelRatio', 'matchMedia', 'ResizeObserver', 'setTimeout', 'clearTimeout', 'console'].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: coreFolders,
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'Date', message: 'Core code takes `now` from its input (STYLE.md §6).' },
        { name: 'setTimeout', message: 'Core code emits timer effects instead.' },
        { name: 'setInterval', message: 'Core code emits timer effects instead.' },
        { name: 'setImmediate', message: 'Core code emits timer effects instead.' },
        { name: 'process', message: 'Core code does no I/O.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use the injected Rng (STYLE.md §6).' },
        { object: 'performance', property: 'now', message: 'Core code takes `now` from its input.' },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Core code imports nothing from node:* (STYLE.md §1).' },
            { group: ['**/io/**', '**/daemons/**', '**/rpc/**'], message: 'Dependencies point inward.' },
          ],
        },
      ],
    },
  },
);
