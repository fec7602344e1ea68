import { defineConfig } from 'vitest/config';

// Unit tests are fast and hermetic; integration tests start real servers (sshd, nginx, JVMs) on
// loopback and therefore run one file at a time with generous timeouts. Some unit tests spawn the
// built CLI (a Node start-up each): 5 s, vitest's default, is plenty on an idle machine but not on
// a loaded CI runner, and a timeout there would say nothing about the behaviour under test.
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.e2e.test.ts', 'node_modules/**'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
