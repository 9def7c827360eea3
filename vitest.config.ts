import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{pipeline,producer,model,electron,renderer,test}/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Cross-process suites start servers and containers: keep files in separate forks, two at a time (2 cores).
    pool: 'forks',
    maxWorkers: 2,
  },
});
