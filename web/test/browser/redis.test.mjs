// A node on a Redis that restarts empty: the room's stream starts a new epoch, the node
// tells the page to resync, and the page reloads the room by itself and keeps working.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { test } from "node:test";
import { chatTexts, eventually, openRoomWithToken, scenario, sendChat } from "./harness.mjs";

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A private redis-server on `port`, keeping nothing on disk; resolves once it listens. */
async function startRedis(port) {
  const child = spawn(
    "redis-server",
    ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"],
    {
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  child.on("error", (e) => {
    throw new Error(`redis-server could not start (apt-get install redis-server): ${e.message}`);
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("redis-server did not start")), 10_000);
    child.stdout.on("data", (chunk) => {
      if (String(chunk).includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.stdout.resume();
  return child;
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

test("the page resyncs by itself when Redis restarts empty", async (t) => {
  const port = await freePort();
  let redis = await startRedis(port);
  t.after(() => stop(redis));
  const env = { REDIS_URL: `redis://127.0.0.1:${port}`, PLENARY_REDIS_PREFIX: "browser-test:" };
  const sessions = [{ id: "redis-room", title: "Resilient Stage" }];
  await scenario(t, { sessions, env }, async ({ node, newPage }) => {
    const page = await newPage();
    await openRoomWithToken(page, node.url, node.token("ada", "Ada"), "redis-room");
    await sendChat(page, "before Redis restarts");

    await stop(redis);
    redis = await startRedis(port);
    // The node resubscribes, sees the new epoch, and tells the page; the page rejoins.
    await page.getByText(/Reconnected\. Some updates were missed/).waitFor({ timeout: 20_000 });
    assert.ok((await chatTexts(page)).includes("before Redis restarts"), "the room kept its state");
    await sendChat(page, "after Redis restarted");
    await eventually("the new message", async () =>
      (await chatTexts(page)).includes("after Redis restarted"),
    );
  });
});
