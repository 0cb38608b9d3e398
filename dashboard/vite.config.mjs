// Builds the dashboard into static, content-hashed assets that lading-server serves (server/dist/public). No
// plugin: esbuild compiles TSX with Preact's automatic runtime. Chart.js is only reached through a dynamic import,
// so it lands in its own chunk that pages without charts never load.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../server/dist/public', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // one CSS file, no inline scripts or styles: the server's Content-Security-Policy allows 'self' only
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1' },
});
