import { defineConfig } from "vitest/config";

// No framework plugin: TypeScript's own JSX transform (tsconfig jsxImportSource=preact) is enough.
// `npm run dev` proxies the API to the local server (`make demo`, http://localhost:3001).
export default defineConfig({
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, target: "es2022" },
  server: {
    port: 5173,
    proxy: {
      "/api": "http://localhost:3001",
      "/health": "http://localhost:3001",
    },
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
