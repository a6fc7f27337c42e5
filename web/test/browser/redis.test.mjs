// A node on a Redis that restarts empty: the room's stream starts a new epoch, the node
// tells the page to resync, and the page reloads the room by itself and keeps working.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  chatTexts,
  eventually,
  freePort,
  openRoomWithToken,
  scenario,
  sendChat,
  startRedis,
  stopProcess as stop,
} from "./harness.mjs";

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
