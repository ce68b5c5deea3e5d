import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'clients/ts/test/**/*.test.ts'],
    reporters: ['default', './test/reporters/summary.ts'],
    environment: 'node',
    // Bundles web/ into dist/web/ for the dashboard tests.
    globalSetup: ['./test/global-setup.ts'],
    // Integration tests start real uWS servers on ephemeral ports; files run in
    // separate forks so a crash in one cannot take the others with it.
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text', 'json-summary'],
      thresholds: {
        'src/pipeline/**': { lines: 90 },
        'src/protocol/**': { lines: 90 },
      },
    },
  },
});
