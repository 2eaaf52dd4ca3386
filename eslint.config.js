// The style the Fastify ecosystem lints with (fastify/demo uses neostandard): standard's rules, for TypeScript.
import neostandard from 'neostandard'

export default [
  // What git ignores (dist/, coverage, data/) is not linted either.
  ...neostandard({ ts: true, ignores: neostandard.resolveIgnoresFromGitignore() }),
  {
    rules: {
      // SQL keeps its single-quoted literals readable in template strings (standard escapes them instead).
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: true }],
      // `void promise;` marks a promise that is deliberately not awaited (its errors are handled where it is made).
      'no-void': ['error', { allowAsStatement: true }]
    }
  },
  {
    // The service's own code has no `any` (tests and fixtures may, for JSON they build).
    files: ['lib/**/*.ts', 'plugins/**/*.ts', 'routes/**/*.ts', 'bin/**/*.ts', '*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' }
  }
]
