import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The console is served by `tributary serve` from the same origin as the API, so the build uses
// absolute asset paths and the dev server proxies API calls to a running `tributary serve`.
const api = 'http://127.0.0.1:3000';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
  server: {
    proxy: Object.fromEntries(
      ['/auth', '/workspaces', '/connectors', '/healthz', '/readyz', '/openapi.json'].map((p) => [p, api]),
    ),
  },
});
