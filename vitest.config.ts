import { defineConfig } from 'vitest/config';

// Unit tests are fast and hermetic; integration tests start real servers (sshd, nginx, JVMs) on
// loopback and therefore run one file at a time with generous timeouts.
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.e2e.test.ts', 'node_modules/**'] },
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
