import { defineConfig } from "vitest/config";

// Unit tests live beside the code (`src/**/*.test.ts`); the browser tests under test/ run
// with node's own runner against a real node and Chromium.
export default defineConfig({
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
