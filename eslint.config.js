import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.turbo/**', '**/coverage/**'] },
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
    files: ['apps/cli/src/env.ts', 'apps/cli/src/io.ts', 'packages/testing/**', '**/*.test.ts', 'bench/**', 'vitest.config.ts', '.ci/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
