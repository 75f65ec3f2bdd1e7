// ESLint flat config: typescript-eslint's recommended rules, and the layering rule of the design:
// code with no `vscode` import (server/, client/src/core/, client/src/cli/) must not import it.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test/e2e/vscode/**', 'test/e2e/.tools/**', 'remote-agent/**', '.tmp/**', 'test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      'no-console': 'off',
    },
  },
  {
    files: ['server/**/*.ts', 'client/src/core/**/*.ts', 'client/src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'This layer runs without VS Code: keep vscode imports in client/src (outside core/ and cli/).' }] }],
    },
  },
);
