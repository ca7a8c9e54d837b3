// The benchmark page (bench.html, the same page the site serves at /bench.html), built apart from the
// playground: `npm run bench:browser` builds it into dist/bench and runs it in headless Chromium.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  publicDir: false,
  build: {
    target: 'es2022',
    outDir: resolve(import.meta.dirname, 'dist/bench'),
    emptyOutDir: true,
    rollupOptions: { input: resolve(import.meta.dirname, 'bench.html') },
    // TensorFlow.js core + its WebGPU backend are one large chunk; the page loads nothing else.
    chunkSizeWarningLimit: 4000,
  },
});
