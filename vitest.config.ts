import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['__tests__/**/*.test.ts'],
    // Integration tests spawn the bundled CLI and action; 2 cores on CI.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './__tests__/support/count-reporter.ts'],
  },
});
