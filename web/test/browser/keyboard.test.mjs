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

test("keyboard only: the hall, a booth's queue, the console and the call", async (t) => {
  await scenario(t, { sessions: [{ id: "opening", title: "Opening" }] }, async ({ node, newPage }) => {
    await node.api("PUT", "/api/booths/itu", {
      id: "itu",
      organisation: "ITU",
      description: "Connecting the world.",
      links: [],
      tags: [],
      staff: ["staff-ana"],
    });
    const staff = await newPage();
    await staff.goto(`${node.url}/booths/itu?token=${node.token("staff-ana", "Ana Exhibitor")}`);
    await staff.getByRole("heading", { name: "Exhibitor console" }).waitFor();

    const page = await newPage();
    await page.goto(`${node.url}/expo?token=${node.token("kbd", "Keyboard User")}`);
    await page.getByRole("heading", { level: 1, name: "Exhibition hall" }).waitFor();
    await tabTo(page, "the booth link", () => document.activeElement?.textContent === "ITU");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "ITU" }).waitFor();
    await tabTo(page, "Talk to someone", () => document.activeElement?.textContent === "Talk to someone");
    await page.keyboard.press("Enter");
    await page.getByText("You are number 1 in the queue.").waitFor();

    // The staff member: the status radios move with the arrow keys; Accept with Enter.
    await tabTo(
      staff,
      "the status radios",
      () => document.activeElement?.getAttribute("name") === "booth-status",
    );
    await staff.keyboard.press("ArrowRight");
    await staff.getByText("Your status is now: Busy.").waitFor();
    await staff.keyboard.press("ArrowLeft");
    await staff.getByText("Your status is now: Available.").waitFor();
    await tabTo(
      staff,
      "Accept",
      () => document.activeElement?.getAttribute("aria-label")?.startsWith("Accept") ?? false,
    );
    await staff.keyboard.press("Enter");
    // Focus moves to the way into the call, for both.
    await eventually("focus on the staff's call link", async () =>
      staff.evaluate(() => document.activeElement?.textContent?.startsWith("Join the private call with")),
    );
    await eventually("focus on the visitor's call link", async () =>
      page.evaluate(() => document.activeElement?.textContent === "Join the private call"),
    );
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Private call with Ana Exhibitor" }).waitFor();
    await tabTo(page, "the chat input", () => document.activeElement?.id === "chat-input");
  });
});
