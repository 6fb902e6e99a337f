// Lint: typescript-eslint on every TypeScript file, plus the layering of docs/architecture.md ("Layers"): imports
// point down only, src/core and src/protocol stay pure (no API client, sockets, timers, files or process), and only
// tests import src/test-support (the fakes they share; the build leaves it out).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Top to bottom; a layer may import only the layers after it.
const layers = ['cmd', 'lab', 'k8s', 'controller', 'speaker', 'platform', 'protocol', 'core'];

const impure = [
  '@kubernetes/*',
  'pino',
  'prom-client',
  'node:net',
  'node:dgram',
  'node:dns',
  'node:http',
  'node:https',
  'node:http2',
  'node:tls',
  'node:timers',
  'node:timers/promises',
  'node:process',
  'node:child_process',
  'node:fs',
  'node:fs/promises',
  'node:os',
  'node:worker_threads',
  'node:cluster',
];

const testSupportOnlyInTests = {
  group: ['**/test-support/**'],
  message: 'src/test-support holds fakes for tests: shipped code must not import it (dist/ leaves it out).',
};

const layerRules = layers.flatMap((layer, index) => {
  const above = layers.slice(0, index).filter((l) => l !== layer);
  const pure = layer === 'core' || layer === 'protocol';
  const siblings = layer === 'controller' ? ['speaker'] : layer === 'speaker' ? ['controller'] : [];
  const forbidden = [...new Set([...above, ...siblings])];
  const patterns = [
    ...forbidden.map((l) => ({
      group: [`**/${l}/**`, `../${l}`, `./${l}`],
      message: `src/${layer} must not import src/${l}: imports point down only (cmd > lab > k8s > controller|speaker > platform > protocol > core).`,
    })),
    ...(pure
      ? [{ group: impure, message: `src/${layer} is pure: no API client, sockets, timers, files or process.` }]
      : []),
  ];
  const rules = {
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...patterns, testSupportOnlyInTests] }],
      ...(pure
        ? {
            'no-restricted-globals': [
              'error',
              ...['process', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'fetch'].map(
                (name) => ({
                  name,
                  message: `src/${layer} is pure: take time and I/O as parameters (an injected Clock).`,
                }),
              ),
            ],
          }
        : {}),
    },
  };
  // The layer's tests keep its layering and may import src/test-support.
  return [rules, { files: [`src/${layer}/**/*.test.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } }];
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'native/build/**', 'dist/**', 'config/**', 'docs/**', '.lab/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use a union of string literals: enums are not erasable syntax.' },
      ],
    },
  },
  ...layerRules,
  {
    files: ['**/*.test.ts', 'e2e/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // client-node declares its API objects as classes; tests build them as plain literals, as the API does.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
