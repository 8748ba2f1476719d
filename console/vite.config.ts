// Builds the ops console into dist/console (served by control/console-assets.ts). Everything is bundled: the page
// loads nothing from anywhere but its own origin.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  publicDir: 'public',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
    // The polyfill is an inline-free module here, but nothing needs it: one entry chunk.
    modulePreload: { polyfill: false },
  },
  server: {
    // `npx vite console` for work on the page: API calls go to a running `wingman up`.
    proxy: Object.fromEntries(['/approvals', '/workers', '/audit', '/events', '/health'].map((p) => [p, 'http://127.0.0.1:5001'])),
  },
});
