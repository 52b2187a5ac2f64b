// Lint the TypeScript sources; compiled output and dependencies are not ours to lint.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  // *.pb.ts files are generated from their .pb.proto by protons (npm run protos).
  { ignores: ['dist/**', 'node_modules/**', '.swarmnet/**', '**/*.pb.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off'
    }
  }
)
