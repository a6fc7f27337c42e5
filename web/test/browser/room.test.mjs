// A guest and a moderator in one session room: stage changes, chat, moderation, and what
// a hostile participant can (not) do to other pages.
import assert from "node:assert/strict";
import { test } from "node:test";
import { chatTexts, eventually, openRoomWithToken, scenario, sendChat, signInAsGuest } from "./harness.mjs";

const SESSIONS = [
  { id: "youth-forum", title: "Youth Forum on Digital Skills" },
  { id: "cybersecurity", title: "Building Confidence in Cybersecurity" },
];

test("a guest joins a session and sees the moderator set it live", async (t) => {
  await scenario(t, { sessions: SESSIONS }, async ({ node, newPage, errors }) => {
    const guest = await newPage();
    await signInAsGuest(guest, node.url, "Amina Diallo", "SN");
    await guest.getByRole("link", { name: "Youth Forum on Digital Skills" }).click();
    await guest.getByRole("heading", { level: 1, name: "Youth Forum on Digital Skills" }).waitFor();
    await guest.getByText("Not started yet").waitFor();
    assert.equal(
      await guest.getByRole("button", { name: "Go live" }).count(),
      0,
      "attendees have no stage controls",
    );

    const moderator = await newPage();
    await openRoomWithToken(moderator, node.url, node.adminToken, "youth-forum");
    assert.ok(!moderator.url().includes("token="), "the token is removed from the address bar");
    await moderator.getByRole("button", { name: "Go live" }).click();
    await guest.locator(".stage-state", { hasText: "Live" }).waitFor();
    await moderator.getByLabel("Current speaker").fill("Doreen Bogdan-Martin");
    await moderator.getByRole("button", { name: "Set speaker" }).click();
    await guest.getByText("Speaking now: Doreen Bogdan-Martin").waitFor();

    // Both count in the room's attendance.
    await eventually(
      "attendance of 2",
      async () => (await guest.getByTestId("attendance").textContent()) === "2 here now",
    );
    // The programme shows the session live, with its count.
    await guest.getByRole("link", { name: "Back to the programme" }).click();
    await guest.getByText(/Live now · \d+ watching/).waitFor();
    assert.deepEqual(errors, []);
  });
});

test("chat goes round between two attendees and a deleted message vanishes for both", async (t) => {
  await scenario(t, { sessions: SESSIONS }, async ({ node, newPage, errors }) => {
    const [ada, grace] = [await newPage(), await newPage()];
    await openRoomWithToken(ada, node.url, node.token("ada", "Ada"), "cybersecurity");
    await openRoomWithToken(grace, node.url, node.token("grace", "Grace"), "cybersecurity");
    await sendChat(ada, "Hello from Ada");
    await eventually("Grace to see Ada", async () => (await chatTexts(grace)).includes("Hello from Ada"));
    await sendChat(grace, "Hi Ada, Grace here");
    await eventually("Ada to see Grace", async () => (await chatTexts(ada)).includes("Hi Ada, Grace here"));
    assert.equal(await grace.getByRole("button", { name: /Delete the message from Ada/ }).count(), 0);

    const moderator = await newPage();
    await openRoomWithToken(moderator, node.url, node.adminToken, "cybersecurity");
    await eventually("history for the moderator", async () => (await chatTexts(moderator)).length === 2);
    await moderator.getByRole("button", { name: "Delete the message from Ada" }).click();
    for (const page of [ada, grace, moderator]) {
      await eventually("the deletion", async () => {
        const texts = await chatTexts(page);
        return !texts.includes("Hello from Ada") && texts.includes("Hi Ada, Grace here");
      });
    }
    // Muting: Grace can no longer send.
    await moderator.getByRole("button", { name: "Mute Grace for 15 minutes" }).click();
    await grace.getByText(/A moderator has muted you/).waitFor();
    await grace.getByRole("textbox", { name: "Message", exact: true }).fill("Can anyone hear me?");
    await grace.getByRole("button", { name: "Send", exact: true }).click();
    await grace.getByText(/Not sent:/).waitFor();
    assert.ok(!(await chatTexts(ada)).includes("Can anyone hear me?"));

    // Removing: Grace is disconnected, and the session refuses her when she comes back.
    moderator.once("dialog", (dialog) => dialog.accept());
    await moderator.getByRole("button", { name: "Remove Grace from this session for 24 hours" }).click();
    await grace.getByText(/removed you from session:cybersecurity until/).waitFor();
    await sendChat(moderator, "Still here");
    await eventually("the others carry on", async () => (await chatTexts(ada)).includes("Still here"));
    assert.ok(!(await chatTexts(grace)).includes("Still here"), "Grace no longer receives the session");
    assert.deepEqual(errors, []);
  });
});

test("markup in a chat message or a display name is shown as text and runs nothing", async (t) => {
  await scenario(t, { sessions: SESSIONS }, async ({ node, newPage, errors }) => {
    const attacker = await newPage();
    const victim = await newPage();
    const evilName = `<img src=x onerror="window.__pwned='name'">`;
    await signInAsGuest(attacker, node.url, evilName);
    await attacker.goto(`${node.url}/sessions/youth-forum`);
    await openRoomWithToken(victim, node.url, node.token("victim", "Victim"), "youth-forum");
    const payload = `<script>window.__pwned='script'</script><img src=x onerror="window.__pwned='img'"> <a href="javascript:window.__pwned='href'">click</a> javascript:alert(1) https://www.itu.int/wsis`;
    await attacker.getByRole("textbox", { name: "Message", exact: true }).waitFor();
    await sendChat(attacker, payload);
    await eventually("the payload at the victim", async () => (await chatTexts(victim)).includes(payload));
    for (const page of [victim, attacker]) {
      const log = page.locator(".chat-log");
      assert.equal(await log.locator("img, script, iframe").count(), 0, "no element came from the text");
      assert.equal(
        await log.locator(".author", { hasText: evilName }).count(),
        1,
        "the name is shown as written",
      );
      const links = await log.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
      assert.deepEqual(links, ["https://www.itu.int/wsis"], "only the https URL is a link");
      const rel = await log.locator("a").getAttribute("rel");
      assert.match(rel ?? "", /noopener/);
      assert.equal(await page.evaluate(() => window.__pwned), undefined);
    }
    // Clicking the text that looks like a link does nothing either.
    await victim.locator(".chat-log .text", { hasText: "javascript:alert" }).click();
    assert.equal(await victim.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(errors, []);
  });
});
