// `npm run lint`: ESLint with typescript-eslint's type-checked recommended rules. Types come from the same programs
// `npm run typecheck` builds: tsconfig.check.json (source, bench, tests) and console/tsconfig.json (the ops console).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tap/', 'coverage/', '.test-env/', '.wingman/'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.check.json', './console/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A security product: stripping and refusing control characters (and matching ANSI escapes) is what these
      // regexes are for.
      'no-control-regex': 'off',
      // `_`-named bindings and rest siblings are how a field is dropped from a copy (`const { secret: _s, ...rest } = x`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Off: every async function without an await in this code is async by contract (implementations of the Bus,
      // LockMirror and store interfaces, fastify hooks, which fastify runs promise-style only when they return a
      // promise, callbacks typed to return one). Dropping `async` there would turn a throw into a synchronous throw
      // or leave fastify waiting for a done callback.
      '@typescript-eslint/require-await': 'off',
      // A `let` that a closure made earlier reads (a teardown, a timer's handler) cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Passing on what a catch caught (typed unknown) is not inventing a non-Error reason.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // tap tracks its subtests: the promise t.test() returns is there to await if a test wants to, and the
          // parent test does not end before them. (`test` and friends as declared by @tapjs/test.)
          allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'skip', 'todo', 'only'], package: '@tapjs/test' }],
        },
      ],
    },
  },
  {
    // Tests and benchmarks poke at JSON: their HTTP helpers answer `json: any` on purpose, and a test reads the fields
    // it asserts on. Every no-unsafe-* finding there is that one any, so the family is off for them; source keeps it.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
