// Q&A across three contexts: an attendee asks, the moderator approves it from the desk,
// attendees vote, the moderator puts it on stage, and the presenter view shows it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventually, openRoomWithToken, scenario } from "./harness.mjs";

test("ask, approve, vote and highlight reach the presenter view", async (t) => {
  const sessions = [{ id: "qa-session", title: "WSIS Action Lines beyond 2025" }];
  await scenario(t, { sessions }, async ({ node, newPage, errors }) => {
    const attendee = await newPage();
    const moderator = await newPage();
    const presenter = await newPage();
    const voter = await newPage();
    await openRoomWithToken(attendee, node.url, node.token("amina", "Amina"), "qa-session");
    await openRoomWithToken(moderator, node.url, node.adminToken, "qa-session");
    await openRoomWithToken(voter, node.url, node.token("kwame", "Kwame"), "qa-session");
    await presenter.goto(
      `${node.url}/sessions/qa-session/presenter?token=${node.token("spk", "Speaker", ["speaker"])}`,
    );
    await presenter.getByText("No question is on stage.").waitFor();

    const question = "How do we measure meaningful connectivity?";
    await attendee.getByLabel("Your question").fill(question);
    await attendee.getByRole("button", { name: "Ask", exact: true }).click();
    await attendee.getByText(/Sent\. It will appear/).waitFor();
    // The asker sees it awaiting approval; another attendee does not see it at all.
    await attendee.getByRole("heading", { name: "Your questions awaiting a moderator" }).waitFor();
    assert.equal(await voter.getByText(question, { exact: true }).count(), 0);

    // The moderator's queue has it; approve with the desk's keyboard shortcut (focus on
    // another of the question's buttons, press A).
    await moderator.getByRole("button", { name: `Shortlist: ${question}` }).focus();
    await moderator.keyboard.press("a");
    await voter.getByText(question, { exact: true }).waitFor();

    // Two votes.
    for (const page of [voter, attendee]) {
      await page.getByRole("button", { name: "Vote for this question" }).click();
      await page.getByRole("button", { name: "Take back your vote" }).waitFor();
    }
    await eventually("2 votes at the moderator", async () => {
      await moderator.getByRole("radio", { name: /Open/ }).check();
      return (
        (await moderator.locator(`article[aria-label="${question}"] [data-testid=votes]`).textContent()) ===
        "2 votes"
      );
    });

    // On stage: the presenter view shows it, large.
    await moderator.getByRole("button", { name: `Put on stage: ${question}` }).click();
    await eventually("the presenter view to show it", async () =>
      (await presenter.getByTestId("presenter-live").textContent())?.includes(question),
    );
    await attendee.getByRole("heading", { name: "On stage now" }).waitFor();
    assert.deepEqual(errors, []);
  });
});

test("a moderator runs a poll and the audience sees the results", async (t) => {
  const sessions = [{ id: "poll-session", title: "Youth and Digital Skills" }];
  await scenario(t, { sessions }, async ({ node, newPage, errors }) => {
    const moderator = await newPage();
    const attendee = await newPage();
    await openRoomWithToken(moderator, node.url, node.adminToken, "poll-session");
    await openRoomWithToken(attendee, node.url, node.token("amina", "Amina"), "poll-session");

    await moderator.getByText("New poll").click();
    await moderator.getByLabel("Question", { exact: true }).fill("Which skill matters most?");
    await moderator
      .getByLabel("Options, one per line (2 to 10)")
      .fill("Coding\nMedia literacy\nSafety online");
    await moderator.getByLabel("Show results to the audience").selectOption("live");
    await moderator.getByRole("button", { name: "Create draft" }).click();
    await moderator.getByRole("button", { name: "Open poll: Which skill matters most?" }).click();

    await attendee.getByRole("radio", { name: "Media literacy" }).check();
    await attendee.getByRole("button", { name: "Submit answer" }).click();
    await attendee.getByText("Your answer: Media literacy").waitFor();
    await eventually(
      "live results at the attendee",
      async () => (await attendee.getByText("Media literacy: 1 (100 %)").count()) === 1,
    );
    await moderator.getByRole("button", { name: "Close poll: Which skill matters most?" }).click();
    // The desk works on a phone-sized screen: nothing overflows sideways.
    const phone = await newPage({ viewport: { width: 390, height: 844 } });
    await openRoomWithToken(
      phone,
      node.url,
      node.token("mod2", "Second Moderator", ["moderator"]),
      "poll-session",
    );
    await phone.getByRole("heading", { name: "Moderation desk" }).waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal overflow on a phone (${overflow}px)`);
    await eventually(
      "the poll closed for the attendee",
      async () => await attendee.getByRole("radio", { name: "Coding" }).isDisabled(),
    );
    assert.deepEqual(errors, []);
  });
});
