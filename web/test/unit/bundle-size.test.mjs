// The initial page (index.html and the JS and CSS it loads) stays within 150 KB gzip, so
// the client opens fast on a slow connection. Lazily loaded chunks (hls.js) are reported,
// not counted. Runs on the built client (web/dist).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const DIST = resolve(fileURLToPath(import.meta.url), "../../../dist");
const BUDGET = 150 * 1024;

const gzipSize = (path) => gzipSync(readFileSync(path), { level: 9 }).length;

test("the initial JS and CSS fit in 150 KB gzip", (t) => {
  const html = readFileSync(join(DIST, "index.html"), "utf8");
  const initial = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  assert.ok(
    initial.some((f) => f.endsWith(".js")),
    "index.html loads a script",
  );
  assert.ok(
    initial.some((f) => f.endsWith(".css")),
    "index.html loads a stylesheet",
  );
  let total = gzipSize(join(DIST, "index.html"));
  for (const file of initial) {
    const size = gzipSize(join(DIST, file));
    t.diagnostic(`${file}: ${(size / 1024).toFixed(1)} KB gzip`);
    total += size;
  }
  t.diagnostic(`initial page: ${(total / 1024).toFixed(1)} KB gzip (budget ${BUDGET / 1024} KB)`);
  assert.ok(total <= BUDGET, `initial page is ${total} bytes gzip, over ${BUDGET}`);
});
