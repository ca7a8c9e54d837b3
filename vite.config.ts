import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  build: {
    target: 'es2022',
    // plotly's basic bundle (~1 MB, the playground's) and TensorFlow.js (~4 MB, only the bench
    // page's peer) are one chunk each, loaded only by the page that needs them.
    chunkSizeWarningLimit: 4000,
    // The playground and the benchmark page (/bench.html, src/bench/page.ts): one site.
    rollupOptions: {
      input: { main: resolve(import.meta.dirname, 'index.html'), bench: resolve(import.meta.dirname, 'bench.html') },
    },
  },
  test: {
    // Dawn's native addon is safest in its own process; SwiftShader already uses every core.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: [
      // The GPU files run without isolation and share a device per worker (tests/helpers.ts,
      // useGpu): each kernel is compiled once per worker rather than once per file.
      { extends: true, test: { name: 'gpu', include: ['tests/gpu/**/*.test.ts'], isolate: false, env: { SHARE_TEST_GPU: '1' } } },
      { extends: true, test: { name: 'other', include: ['tests/!(gpu)/**/*.test.ts', 'tests/!(gpu)/**/*.test.tsx'] } },
    ],
  },
});
