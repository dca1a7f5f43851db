import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/dist-node/**', '**/.turbo/**', '**/coverage/**', 'bench/.compiled/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only apps/cli reads the environment, through its zod schema.' },
      ],
    },
  },
  {
    // The console runs in the browser; hooks follow React's rules.
    files: ['apps/console/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    files: ['apps/cli/src/env.ts', 'apps/cli/src/io.ts', 'apps/console/e2e/**', 'apps/console/scripts/**', 'apps/console/src/**/*.test.tsx', 'packages/testing/**', '**/*.test.ts', 'bench/**', 'vitest.config.ts', '.ci/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
