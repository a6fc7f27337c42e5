// 10,000 chat messages into one room: the page keeps a bounded window of them in the DOM,
// stays at the newest while following, and scrolls back through them on request.
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventually, openRoomWithToken, scenario } from "./harness.mjs";

const COUNT = 10_000;
const WINDOW = 120; // web/src/components/Chat.tsx

test("the chat stays windowed and usable with 10,000 messages", async (t) => {
  const sessions = [{ id: "busy-room", title: "WSIS Prize Ceremony" }];
  const env = {
    PLENARY_CHAT_PER_MINUTE: "1000000",
    PLENARY_CHAT_BURST: "100000",
    PLENARY_COMMANDS_PER_SECOND: "100000",
    PLENARY_COMMAND_BURST: "100000",
  };
  await scenario(t, { sessions, env }, async ({ node, newPage, errors }) => {
    const reader = await newPage();
    await openRoomWithToken(reader, node.url, node.token("reader", "Reader"), "busy-room");
    await reader.evaluate(() => {
      window.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
      }).observe({ type: "longtask" });
    });

    // A second participant floods the room over its own WebSocket, 200 requests in flight.
    const writer = await newPage();
    // A page of the node (its CSP allows a WebSocket to the node; plain responses allow nothing).
    await writer.goto(`${node.url}/`);
    const sent = await writer.evaluate(
      async ({ url, token, count }) => {
        const socket = new WebSocket(url);
        const replies = new Map();
        let welcome;
        const welcomed = new Promise((resolve) => {
          welcome = resolve;
        });
        socket.onmessage = (m) => {
          const msg = JSON.parse(m.data);
          if (msg.type === "welcome") welcome();
          if (msg.rid !== undefined && replies.has(msg.rid)) {
            replies.get(msg.rid)(msg);
            replies.delete(msg.rid);
          }
        };
        await new Promise((resolve) => {
          socket.onopen = resolve;
        });
        socket.send(JSON.stringify({ type: "hello", protocol: [1], token }));
        await welcomed;
        const request = (body) =>
          new Promise((resolve) => {
            const rid = replies.size + Math.floor(Math.random() * 1e12);
            replies.set(rid, resolve);
            socket.send(JSON.stringify({ ...body, rid }));
          });
        await request({ type: "join", room: "session:busy-room" });
        let acked = 0;
        for (let start = 0; start < count; start += 200) {
          const batch = [];
          for (let i = start; i < Math.min(count, start + 200); i++) {
            batch.push(request({ type: "chat_send", room: "session:busy-room", text: `message ${i}` }));
          }
          for (const reply of await Promise.all(batch)) if (reply.type === "ack") acked += 1;
        }
        socket.close();
        return acked;
      },
      { url: `${node.url.replace("http", "ws")}/ws`, token: node.token("writer", "Writer"), count: COUNT },
    );
    assert.equal(sent, COUNT);

    const last = `message ${COUNT - 1}`;
    await eventually(
      "the newest message at the reader",
      async () => (await reader.getByText(last, { exact: true }).count()) === 1,
      60_000,
    );
    const rendered = () => reader.locator(".messages .message").count();
    assert.ok((await rendered()) <= WINDOW, `at most ${WINDOW} messages in the DOM, not ${await rendered()}`);
    // Following: the newest message is in view.
    await eventually("the newest message in view", () => reader.getByText(last, { exact: true }).isVisible());

    // Scrolling back moves the window; the DOM stays bounded.
    const log = reader.locator(".chat-log");
    for (let i = 0; i < 5; i++) {
      const first = await reader.locator(".messages .message .text").first().textContent();
      await log.evaluate((e) => {
        e.scrollTop = 0;
      });
      await eventually(
        "the window to move back",
        async () => (await reader.locator(".messages .message .text").first().textContent()) !== first,
      );
    }
    const oldestShown = Number(
      (await reader.locator(".messages .message .text").first().textContent()).split(" ")[1],
    );
    assert.ok(oldestShown < COUNT - WINDOW - 4 * 60, `scrolled back to message ${oldestShown}`);
    assert.ok((await rendered()) <= WINDOW);
    await reader.getByRole("button", { name: /Jump to latest/ }).click();
    await eventually("back at the newest", () => reader.getByText(last, { exact: true }).isVisible());

    // A late joiner gets only the newest page in its snapshot; scrolling back fetches older
    // pages from the node (memory, then the record), still within the window.
    const late = await newPage();
    await openRoomWithToken(late, node.url, node.token("late", "Late Joiner"), "busy-room");
    await late.getByText(last, { exact: true }).waitFor();
    const lateLog = late.locator(".chat-log");
    const oldestOn = async (page) =>
      Number((await page.locator(".messages .message .text").first().textContent()).split(" ")[1]);
    const firstSeen = await oldestOn(late);
    for (let i = 0; i < 6; i++) {
      const before = await oldestOn(late);
      await lateLog.evaluate((e) => {
        e.scrollTop = 0;
      });
      await eventually("older messages to load", async () => (await oldestOn(late)) < before);
    }
    const reached = await oldestOn(late);
    assert.ok(reached < firstSeen - 200, `scrolled back from message ${firstSeen} to ${reached}`);
    assert.ok((await late.locator(".messages .message").count()) <= WINDOW);

    const longTasks = await reader.evaluate(() => window.__longTasks);
    const worst = Math.max(0, ...longTasks);
    t.diagnostic(
      `long tasks while receiving ${COUNT} messages: ${longTasks.length}, longest ${Math.round(worst)} ms`,
    );
    assert.deepEqual(errors, []);
  });
});
