// The node restarts under an open page: the page says so, reconnects by itself, resumes,
// and loses no message: not those sent before, not one typed while the node was down, not
// those others sent after the restart.
import assert from "node:assert/strict";
import { test } from "node:test";
import { chatTexts, eventually, openRoomWithToken, scenario, sendChat } from "./harness.mjs";

test("the page reconnects after a node restart and loses no message", async (t) => {
  const sessions = [{ id: "resilience", title: "Resilient Infrastructure" }];
  await scenario(t, { sessions }, async ({ node, newPage }) => {
    const [ada, grace] = [await newPage(), await newPage()];
    await openRoomWithToken(ada, node.url, node.token("ada", "Ada"), "resilience");
    await openRoomWithToken(grace, node.url, node.token("grace", "Grace"), "resilience");
    await sendChat(ada, "before the restart");
    await eventually("Grace to see it", async () => (await chatTexts(grace)).includes("before the restart"));

    // The "reconnected" note is shown for a few seconds only: record every banner text.
    for (const page of [ada, grace]) {
      await page.evaluate(() => {
        window.__banners = [];
        new MutationObserver(() => {
          const text = document.querySelector(".connection-banner")?.textContent;
          if (text) window.__banners.push(text);
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
    }
    await node.stop();
    for (const page of [ada, grace]) {
      await eventually("the reconnect banner", async () =>
        /Connection lost|Reconnecting/.test((await page.locator(".connection-banner").textContent()) ?? ""),
      );
    }
    // Ada writes while the node is down: the message waits for the connection.
    const composer = ada.getByRole("textbox", { name: "Message", exact: true });
    await composer.fill("typed while offline");
    await ada.getByRole("button", { name: "Send", exact: true }).click();
    await ada.getByText("Waiting for the connection…").waitFor();

    await node.startAgain();
    // Grace reconnects (now, rather than after the backoff) and writes at once.
    await grace
      .getByRole("button", { name: "Reconnect now" })
      .click()
      .catch(() => undefined);
    await eventually(
      "Grace to reconnect",
      async () => (await grace.locator(".connection-banner").getAttribute("data-state")) === "open",
    );
    await sendChat(grace, "after the restart");

    for (const page of [ada, grace]) {
      await eventually(
        "every message on both pages",
        async () => {
          const texts = await chatTexts(page);
          return ["before the restart", "typed while offline", "after the restart"].every((m) =>
            texts.includes(m),
          );
        },
        30_000,
      );
      await eventually("the reconnected note", () =>
        page.evaluate(() => window.__banners.some((text) => /Reconnected\./.test(text))),
      );
    }
    assert.equal(await composer.inputValue(), "", "the queued message was sent");
    const texts = await chatTexts(ada);
    assert.equal(new Set(texts).size, texts.length, "no message shown twice");
  });
});
