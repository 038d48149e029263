import { defineConfig } from 'vitest/config';

// Two projects: pure unit tests (no broker, no global setup) and tests against a real broker and
// registry (integration, e2e), which share one stack from test/setup/global.ts and isolate
// themselves per file with their own topic prefix and group ids.
export default defineConfig({
  test: {
    // Two cores and one broker: more workers only make the broker the bottleneck.
    maxWorkers: 2,
    teardownTimeout: 60_000,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Pure, but some sweep hundreds of seeds (~1 s alone): vitest's 5 s default failed one on
          // a 2-core box busy with a fault campaign. A unit test never waits on anything but the CPU.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'kafka',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/setup/global.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
