// Everything by keyboard alone: sign in, open a session, send a chat message; focus is
// always visible. A second attendee sees the message.
import assert from "node:assert/strict";
import { test } from "node:test";
import { chatTexts, eventually, openRoomWithToken, scenario } from "./harness.mjs";

/** Presses Tab until the focused element matches `predicate` (at most 60 presses). */
async function tabTo(page, what, predicate) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press("Tab");
    const found = await page.evaluate(predicate);
    if (found) {
      const outline = await page.evaluate(() => {
        const style = getComputedStyle(document.activeElement);
        return { style: style.outlineStyle, width: Number.parseFloat(style.outlineWidth) };
      });
      assert.ok(outline.style !== "none" && outline.width >= 2, `focus on ${what} is visible`);
      return;
    }
  }
  throw new Error(`Tab never reached ${what}`);
}

test("keyboard only: sign in, open a session, send a chat message", async (t) => {
  const sessions = [{ id: "accessibility", title: "Accessibility for All" }];
  await scenario(t, { sessions }, async ({ node, newPage }) => {
    const other = await newPage();
    await openRoomWithToken(other, node.url, node.token("lin", "Lin"), "accessibility");

    const page = await newPage();
    await page.goto(node.url);
    await tabTo(page, "the skip link", () => document.activeElement?.classList.contains("skip-link"));
    await tabTo(page, "the name field", () => document.activeElement?.id === "guest-name");
    await page.keyboard.type("Keyboard User");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Browser Test Forum" }).waitFor();

    await tabTo(
      page,
      "the session link",
      () => document.activeElement?.textContent === "Accessibility for All",
    );
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Accessibility for All" }).waitFor();

    await tabTo(page, "the chat input", () => document.activeElement?.id === "chat-input");
    await page.keyboard.type("Typed without a mouse");
    await page.keyboard.press("Enter");
    await eventually("Lin to see it", async () => (await chatTexts(other)).includes("Typed without a mouse"));

    // The chat log itself can be reached and scrolled from the keyboard.
    await page.keyboard.press("Shift+Tab");
    await tabTo(page, "the chat log", () => document.activeElement?.classList.contains("chat-log"));
  });
});
