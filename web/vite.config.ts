// Build of the panel: one index.html plus hashed assets under assets/, which the master serves
// with a long cache lifetime (the hash changes whenever the content does).
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  plugins: [vue()],
  // Relative asset URLs keep the panel working when the master is reached under a path prefix.
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // The examples/ workflows are imported from outside web/; they are small JSON files.
    chunkSizeWarningLimit: 300,
  },
  server: {
    // `npm run dev` against a master on the default port.
    proxy: {
      '/distributed': 'http://127.0.0.1:8188',
      '/view': 'http://127.0.0.1:8188',
      '/object_info': 'http://127.0.0.1:8188',
      '/ws': { target: 'ws://127.0.0.1:8188', ws: true },
    },
    fs: { allow: ['..'] },
  },
});
