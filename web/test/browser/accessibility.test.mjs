// axe-core on every page, as a guest and as a moderator, and the layout in a
// right-to-left language.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import { openRoomWithToken, scenario, sendChat, signInAsGuest } from "./harness.mjs";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Serious and critical axe violations on the page, as readable lines. */
async function violations(page) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const SESSIONS = [
  { id: "gender", title: "Gender Equality and Digital Inclusion" },
  { id: "older", title: "ICTs for Older Persons" },
];

test("axe finds no serious or critical violation on any page", async (t) => {
  await scenario(t, { sessions: SESSIONS }, async ({ node, newPage }) => {
    const guest = await newPage();
    await guest.goto(node.url);
    await guest.getByLabel("Your name").waitFor();
    assert.deepEqual(await violations(guest), [], "sign-in page");

    await signInAsGuest(guest, node.url, "Maria", "BR");
    assert.deepEqual(await violations(guest), [], "programme");

    const moderator = await newPage();
    await openRoomWithToken(moderator, node.url, node.adminToken, "gender");
    await moderator.getByRole("button", { name: "Go live" }).click();
    await sendChat(moderator, "Welcome, everyone! Slides: https://www.itu.int/wsis");
    assert.deepEqual(await violations(moderator), [], "session room (moderator)");

    await guest.getByRole("link", { name: "Gender Equality and Digital Inclusion" }).click();
    await guest.getByText("Welcome, everyone!", { exact: false }).waitFor();
    assert.deepEqual(await violations(guest), [], "session room (attendee)");

    await guest.goto(`${node.url}/sessions/gender/presenter`);
    await guest.getByRole("heading", { level: 1, name: "Presenter view" }).waitFor();
    assert.deepEqual(await violations(guest), [], "presenter view");

    await guest.goto(`${node.url}/sessions/no-such-session`);
    await guest.getByRole("heading", { level: 1, name: "This session does not exist." }).waitFor();
    assert.deepEqual(await violations(guest), [], "missing session");

    // Dark scheme: contrast holds there too.
    const dark = await newPage({ colorScheme: "dark" });
    await openRoomWithToken(dark, node.url, node.token("night", "Night Owl"), "gender");
    assert.deepEqual(await violations(dark), [], "session room, dark scheme");
  });
});

test("a right-to-left language mirrors the layout without overflow", async (t) => {
  await scenario(t, { sessions: SESSIONS }, async ({ node, newPage }) => {
    const page = await newPage({ locale: "ar" });
    const english = await newPage();
    await openRoomWithToken(english, node.url, node.token("en", "English Reader"), "older");
    await openRoomWithToken(page, node.url, node.token("ar", "قارئ عربي"), "older");
    assert.equal(await page.evaluate(() => document.documentElement.dir), "rtl");
    assert.equal(await page.evaluate(() => document.documentElement.lang), "ar");
    await sendChat(page, "مرحبا بالجميع");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal overflow (${overflow}px)`);
    // The chat sits on the left in RTL (it is on the right in LTR).
    const chatLeft = await page.locator(".chat").evaluate((e) => e.getBoundingClientRect().left);
    const stageLeft = await page.locator(".stage").evaluate((e) => e.getBoundingClientRect().left);
    assert.ok(chatLeft < stageLeft, "the columns are mirrored");
    assert.deepEqual(await violations(page), []);
  });
});

test("axe finds no serious or critical violation in the exhibition", async (t) => {
  await scenario(t, { sessions: SESSIONS }, async ({ node, newPage }) => {
    await node.api("PUT", "/api/booths/itu", {
      id: "itu",
      organisation: "International Telecommunication Union",
      description: "Connecting the world.",
      links: ["https://www.itu.int/"],
      track: "main",
      tags: ["C2", "SDG9"],
      staff: ["staff-ana"],
    });
    const staff = await newPage();
    await staff.goto(`${node.url}/booths/itu?token=${node.token("staff-ana", "Ana Exhibitor")}`);
    await staff.getByRole("heading", { name: "Exhibitor console" }).waitFor();

    const visitor = await newPage();
    await visitor.goto(`${node.url}/expo?token=${node.token("kofi", "Kofi Mensah")}`);
    await visitor.getByTestId("counts-itu").getByText("1 staff member on duty").waitFor();
    assert.deepEqual(await violations(visitor), [], "exhibition hall");

    await visitor.getByRole("link", { name: "International Telecommunication Union" }).click();
    await visitor.getByRole("button", { name: "Talk to someone" }).click();
    await visitor.getByText("You are number 1 in the queue.").waitFor();
    // The card form showing its errors.
    await visitor.getByLabel("E-mail").fill("not an address");
    await visitor.getByRole("button", { name: "Share my card" }).click();
    await visitor.getByText("Tick the box", { exact: false }).waitFor();
    assert.deepEqual(await violations(visitor), [], "booth (visitor, in the queue)");

    await staff.getByRole("button", { name: "Accept the request from Kofi Mensah" }).waitFor();
    assert.deepEqual(await violations(staff), [], "booth (exhibitor console)");
    await staff.getByRole("button", { name: "Accept the request from Kofi Mensah" }).click();
    await visitor.getByRole("link", { name: "Join the private call" }).click();
    await visitor.getByRole("heading", { level: 1, name: "Private call with Ana Exhibitor" }).waitFor();
    await sendChat(visitor, "Hello!");
    assert.deepEqual(await violations(visitor), [], "private call");

    const outsider = await newPage({ colorScheme: "dark" });
    await outsider.goto(`${node.url}${new URL(visitor.url()).pathname}?token=${node.token("eve", "Eve")}`);
    await outsider.getByRole("heading", { level: 1, name: "This call is private." }).waitFor();
    assert.deepEqual(await violations(outsider), [], "a call of others (dark scheme)");
    await outsider.goto(`${node.url}/booths/itu`);
    await outsider.getByRole("heading", { name: "Staff", exact: true }).waitFor();
    assert.deepEqual(await violations(outsider), [], "booth, dark scheme");
    await outsider.goto(`${node.url}/booths/no-such-booth`);
    await outsider.getByRole("heading", { level: 1, name: "This booth does not exist." }).waitFor();
    assert.deepEqual(await violations(outsider), [], "missing booth");

    // Right to left on a phone: mirrored, nothing overflows.
    const arabic = await newPage({ locale: "ar", viewport: { width: 390, height: 844 } });
    await arabic.goto(`${node.url}/booths/itu?token=${node.token("ar", "قارئ عربي")}`);
    await arabic.getByRole("button", { name: "Talk to someone" }).waitFor();
    const overflow = await arabic.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal overflow (${overflow}px)`);
    assert.deepEqual(await violations(arabic), [], "booth, right to left");
  });
});
