import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers start per file; keep files from fighting over two cores.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // An unhandled rejection or error anywhere fails the run.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
