// A session whose stage is an HLS stream, generated here with Debian's ffmpeg and served
// from a second loopback origin (allowed by the node's stage_origins), plays in the page.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { test } from "node:test";
import { eventually, openRoomWithToken, scenario, signInAsGuest } from "./harness.mjs";

/** Ten seconds of a test pattern as HLS (H.264 in MPEG-TS, 2 s segments). */
function makeStream() {
  const dir = mkdtempSync(join(tmpdir(), "plenary-hls-"));
  const ffmpeg = spawnSync(
    "ffmpeg",
    [
      ...["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25"],
      ...["-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "50"],
      ...["-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod", join(dir, "stream.m3u8")],
    ],
    { encoding: "utf8" },
  );
  if (ffmpeg.error || ffmpeg.status !== 0) {
    throw new Error(
      `ffmpeg could not make the test stream (apt-get install ffmpeg): ${ffmpeg.error ?? ffmpeg.stderr}`,
    );
  }
  return dir;
}

/** Serves `dir` on 127.0.0.1 with CORS, as a CDN would. */
async function serve(dir) {
  const types = { ".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t" };
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, "http://x").pathname)).replace(
      /^(\.\.[/\\])+/,
      "",
    );
    try {
      const body = readFileSync(join(dir, path));
      response.writeHead(200, {
        "content-type": types[extname(path)] ?? "application/octet-stream",
        "access-control-allow-origin": "*",
      });
      response.end(body);
    } catch {
      response.writeHead(404, { "access-control-allow-origin": "*" });
      response.end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

test("an HLS stage plays for an attendee", async (t) => {
  const dir = makeStream();
  const { server, origin } = await serve(dir);
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const sessions = [
    {
      id: "plenary-hall",
      title: "High-Level Policy Session",
      stage: { kind: "hls", url: `${origin}/stream.m3u8` },
    },
  ];
  await scenario(
    t,
    { sessions, env: { PLENARY_STAGE_ORIGINS: origin } },
    async ({ node, newPage, errors }) => {
      const moderator = await newPage();
      await openRoomWithToken(moderator, node.url, node.adminToken, "plenary-hall");
      await moderator.getByRole("button", { name: "Go live" }).click();

      // One viewer plays the stream natively (Chromium can); the other is a browser without
      // native HLS (Firefox, older Chromium), so the page loads hls.js, within the CSP.
      const native = await newPage();
      const withHlsJs = await newPage();
      await withHlsJs.addInitScript(() => {
        const original = HTMLMediaElement.prototype.canPlayType;
        HTMLMediaElement.prototype.canPlayType = function (type) {
          return type.includes("mpegurl") ? "" : original.call(this, type);
        };
      });
      for (const [viewer, name] of [
        [native, "Kwame"],
        [withHlsJs, "Ingrid"],
      ]) {
        await signInAsGuest(viewer, node.url, name);
        await viewer.getByRole("link", { name: "High-Level Policy Session" }).click();
      }
      for (const viewer of [native, withHlsJs]) {
        const video = viewer.getByLabel("Live stream of High-Level Policy Session");
        await video.waitFor();
        const played = await eventually(
          "the video to advance",
          async () => {
            const time = await video.evaluate((v) => v.currentTime);
            return time > 1 ? time : false;
          },
          30_000,
        );
        assert.ok(played > 1);
        assert.equal(await viewer.locator(".stage .error").count(), 0);
      }
      const source = (page) =>
        page.getByLabel("Live stream of High-Level Policy Session").evaluate((v) => v.currentSrc);
      assert.match(await source(native), /stream\.m3u8$/, "played natively");
      assert.match(await source(withHlsJs), /^blob:/, "played through hls.js and Media Source Extensions");
      assert.deepEqual(errors, []);
    },
  );
});
