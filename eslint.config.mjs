// Lint rules of the workspace. The module-boundary rule enforces the one-way dependency graph:
// data, metrics and compression depend on nothing of ours; models may use compression; the
// runner composes everything; the report app reads result files only.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...nx.configs['flat/base'],
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:data', onlyDependOnLibsWithTags: ['scope:data'] },
            { sourceTag: 'scope:metrics', onlyDependOnLibsWithTags: ['scope:metrics'] },
            { sourceTag: 'scope:compression', onlyDependOnLibsWithTags: ['scope:compression'] },
            { sourceTag: 'scope:models', onlyDependOnLibsWithTags: ['scope:models', 'scope:compression'] },
            { sourceTag: 'scope:report', onlyDependOnLibsWithTags: ['scope:report'] },
            {
              sourceTag: 'scope:runner',
              onlyDependOnLibsWithTags: ['scope:runner', 'scope:data', 'scope:models', 'scope:compression', 'scope:metrics', 'scope:report'],
            },
            { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
    },
  },
];
