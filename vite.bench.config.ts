// The benchmark page (src/bench/index.html), built apart from the playground: `npm run bench:browser`
// builds it into dist/bench and runs it in headless Chromium.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: resolve(import.meta.dirname, 'src/bench'),
  base: './',
  publicDir: false,
  build: {
    target: 'es2022',
    outDir: resolve(import.meta.dirname, 'dist/bench'),
    emptyOutDir: true,
    // TensorFlow.js core + its WebGPU backend are one large chunk; the page loads nothing else.
    chunkSizeWarningLimit: 4000,
  },
});
