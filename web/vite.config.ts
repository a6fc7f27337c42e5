import { defineConfig } from "vite";

// The node serves `dist/` (server/src/http/web.rs): files under `assets/` are named by
// content hash and cached for a year; everything else is revalidated.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    target: "es2022",
    sourcemap: false,
    // The CSP forbids inline scripts and styles: keep every asset a separate file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    // hls.js (~180 KB gzip) is a separate chunk, loaded only for HLS stages in browsers
    // without native HLS; the initial page is the rest (BENCHMARKS.md has the figures).
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8080",
      "/ws": { target: "ws://127.0.0.1:8080", ws: true },
    },
  },
});
