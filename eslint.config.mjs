// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

/** What `lib/` may not import: it is the core that the CLI, the Lambda functions and the constructs build on. */
const LIB_BOUNDARY = {
  paths: [
    { name: 'aws-cdk-lib', message: 'lib/ has no CDK import: put CDK code under constructs/' },
    { name: 'constructs', message: 'lib/ has no CDK import: put CDK code under constructs/' },
  ],
  patterns: [
    { group: ['aws-cdk-lib/*'], message: 'lib/ has no CDK import: put CDK code under constructs/' },
    { group: ['**/constructs/*', '**/constructs'], message: 'lib/ may not import the constructs: they build on lib/, not the other way' },
    { group: ['**/bin/*'], message: 'lib/ may not import the CLI or the example app (bin/)' },
    { group: ['**/functions/*'], message: 'lib/ may not import the Lambda entry points (functions/)' },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'packages/constructs/constructs/**',
      'packages/constructs/lib/**',
      'packages/constructs/dist/**',
      'cdk.out/**',
      '.modelsweep/**',
      'coverage/**',
      '**/*.cjs',
      '**/*.mjs',
      '**/*.mts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  prettier,
  {
    // After Prettier's config, which turns formatting rules off: a line Prettier cannot break (a long string) still has a limit.
    files: ['**/*.ts', '**/*.mts'],
    rules: { 'max-len': ['error', { code: 150, ignoreUrls: true, ignoreRegExpLiterals: true, ignoreStrings: true, ignoreTemplateLiterals: true }] },
  },
  {
    // The benchmark's plain Node servers: CommonJS, run by node directly.
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['lib/**/*.ts'], rules: { 'no-restricted-imports': ['error', LIB_BOUNDARY] } },
);
