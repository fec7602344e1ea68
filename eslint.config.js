// Lint rules that enforce the house rules (`npm run lint`, part of `npm test`): promises are
// awaited or handled, type-only imports say so, imports are ordered, and the layers of
// /work/shared/design-notes.md hold: data flows files → runbook/inventory → plan → engine →
// transport, events flow from the engine to journal and ui, the session library (src/session/) serves
// every front end, nothing below the CLI and the service knows a front end.
// Formatting is Prettier's (`npm run format`), not a lint rule.
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Folders of src/ and the folders each must never import (not even types). */
const FORBIDDEN = {
  // The lowest layer: helpers every other folder may use.
  shell: ['runbook', 'inventory', 'template', 'plan', 'engine', 'transport', 'journal', 'ui', 'session', 'cli', 'service', 'lab', 'testing', 'demo'],
  redact: ['runbook', 'inventory', 'template', 'plan', 'engine', 'transport', 'journal', 'ui', 'session', 'cli', 'service', 'lab', 'testing', 'demo'],
  properties: ['runbook', 'inventory', 'template', 'plan', 'engine', 'transport', 'journal', 'ui', 'session', 'cli', 'service', 'lab', 'testing', 'demo'],
  // Templating and expressions serve the models above them.
  template: ['runbook', 'inventory', 'plan', 'engine', 'transport', 'journal', 'ui', 'session', 'cli', 'service', 'lab', 'testing', 'demo'],
  // The models read from files.
  inventory: ['runbook', 'plan', 'engine', 'transport', 'journal', 'ui', 'session', 'cli', 'service', 'lab', 'testing', 'demo'],
  runbook: ['plan', 'engine', 'transport', 'journal', 'ui', 'session', 'cli', 'service', 'lab', 'testing', 'demo'],
  // The planner is pure: no I/O, no transport.
  plan: ['engine', 'transport', 'journal', 'ui', 'session', 'cli', 'service', 'lab', 'testing', 'demo'],
  // Transports know commands, not runbooks, plans or the engine.
  transport: ['runbook', 'template', 'plan', 'engine', 'journal', 'ui', 'session', 'cli', 'service', 'lab', 'testing', 'demo'],
  // The engine emits events; journal and ui consume them (see the journal exception below).
  engine: ['ui', 'session', 'cli', 'service', 'lab', 'testing', 'demo'],
  journal: ['session', 'cli', 'service', 'lab', 'testing', 'demo'],
  ui: ['session', 'cli', 'service', 'lab', 'testing', 'demo'],
  lab: ['session', 'cli', 'service', 'testing', 'demo'],
  // The session library starts, resumes and finishes runs for any front end (the CLI, the service).
  session: ['cli', 'service', 'lab', 'testing', 'demo'],
  testing: ['service', 'lab', 'demo'],
  // The service is a front end beside the CLI: both use the session library, neither the other.
  service: ['cli', 'lab', 'testing', 'demo'],
};

const layerRules = Object.entries(FORBIDDEN).map(([folder, banned]) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        // Type-only imports are allowed: they vanish from the build, and a lower layer may name
        // the shape of what a higher one hands it (shell/become.ts takes inventory's settings).
        patterns: [
          {
            // Relative specifiers only: the folders are siblings under src/.
            regex: `^(\\.\\./)+(${banned.join('|')})(/|$)`,
            allowTypeImports: true,
            message: `src/${folder}/ must not import this folder: it is above it in the layers (eslint.config.js, shared design notes).`,
          },
          ...(folder === 'engine'
            ? [
                {
                  // The engine writes outputs and artifacts into the run directory, whose layout
                  // (run-dir.ts) and atomic writes (atomic.ts) are the journal's; the rest of the
                  // journal consumes the engine's events and sits above it.
                  regex: '^\\.\\./journal/(?!run-dir\\.js$|atomic\\.js$)',
                  allowTypeImports: true,
                  message: 'src/engine/ may use only the run directory layout (journal/run-dir.ts) and atomic writes (journal/atomic.ts) of the journal.',
                },
                { regex: '^(listr2|@inquirer/)', message: 'the engine knows no view or prompt library: they live in src/ui/.' },
              ]
            : []),
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.remedy-lab/**', 'lab/**', 'schema/**', '**/*.js', '**/*.mjs'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'vitest.config.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    rules: {
      // A promise nobody awaits loses its error (and, in the engine, its ordering).
      '@typescript-eslint/no-floating-promises': 'error',
      // `typeof import('node:fs')` stays allowed: vitest's importOriginal<…>() needs it.
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'import-x/order': [
        'error',
        {
          groups: ['builtin', 'external', ['parent', 'sibling', 'index']],
          'newlines-between': 'never',
          alphabetize: { order: 'asc', caseInsensitive: true },
        },
      ],
    },
  },
  ...layerRules,
);
