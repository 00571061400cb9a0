// End-to-end tests (tests/e2e): Playwright drives Debian's Chromium against the real master and
// real native workers. They live outside web/, so their bare imports are pointed at web's
// node_modules here. One file at a time: each starts its own processes and the machine has two
// cores.
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  // Vitest's cache stays in web/, not in a node_modules/ it would make under tests/e2e.
  cacheDir: `${web}node_modules/.vite-e2e`,
  resolve: { alias: { 'playwright-core': `${web}node_modules/playwright-core` } },
  test: {
    root: fileURLToPath(new URL('../tests/e2e', import.meta.url)),
    include: ['**/*.e2e.ts'],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
