import { defineConfig } from 'vitest/config';

// Tests run against TypeScript source. Integration tests talk to real databases and real HTTP servers,
// so they get longer time-outs and fewer parallel workers on a 2-core machine.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: ['**/*.integration.test.ts', '**/node_modules/**', 'apps/console/**'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        // The console's components, rendered in jsdom with Testing Library.
        extends: './apps/console/vite.config.ts',
        test: {
          name: 'console',
          root: '.',
          include: ['apps/console/src/**/*.test.{ts,tsx}'],
          environment: 'jsdom',
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'packages/*/src/**/*.integration.test.ts',
            'apps/*/src/**/*.integration.test.ts',
            // The console's end-to-end journeys in Chromium.
            'apps/console/e2e/**/*.integration.test.ts',
          ],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
