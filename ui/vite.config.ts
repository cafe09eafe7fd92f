/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// `vite dev` and `vite preview` forward /api, /healthz and /readyz to the backend, so the UI is
// served from one origin and the backend needs no CORS rule. SCHILD_BACKEND names the backend.
const backend = process.env.SCHILD_BACKEND ?? 'http://127.0.0.1:8700';
const proxy = {
  '/api': { target: backend, changeOrigin: false },
  '/healthz': { target: backend },
  '/readyz': { target: backend },
};

// The built UI carries a strict Content-Security-Policy: nothing but its own files, and API calls
// to its own origin or a backend the person configured. (The dev server injects styles inline,
// so the policy is added to the built index.html only.)
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self' http://127.0.0.1:* http://localhost:* https:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const csp: Plugin = {
  name: 'schild-csp',
  apply: 'build',
  transformIndexHtml: (html) => html.replace('<meta charset="utf-8" />', `<meta charset="utf-8" />\n    <meta http-equiv="Content-Security-Policy" content="${CSP}" />`),
};

export default defineConfig({
  plugins: [svelte(), csp],
  base: './',
  build: { target: 'es2022', sourcemap: false, assetsInlineLimit: 0 },
  server: { host: '127.0.0.1', proxy },
  preview: { host: '127.0.0.1', proxy },
  test: { include: ['tests/**/*.test.ts'], environment: 'node' },
});
