// A session's green room: a moderator and two speakers start their cameras, and each page
// decodes and shows the video of both others (a mesh: two peer connections per page). A
// speaker leaves: the others say so and close the connection to it. An attendee is refused
// with a clear message. Chromium runs with fake devices that need no permission prompt.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import { eventually, FAKE_MEDIA_FLAGS, scenario } from "./harness.mjs";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Serious and critical axe violations on the page, as readable lines. */
async function violations(page) {
  await page.evaluate(axeSource);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const SESSIONS = [{ id: "opening", title: "Opening Ceremony" }];
const HEADING = "Green room: Opening Ceremony";

/** Records the page's peer connections, without any hook in the client. */
async function instrument(page) {
  await page.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const connections = [];
    window.__test = { connections };
    window.RTCPeerConnection = class extends Native {
      constructor(...args) {
        super(...args);
        connections.push(this);
      }
    };
  });
}

/** Video frames decoded by each open peer connection of the page. */
async function framesPerConnection(page) {
  return page.evaluate(async () => {
    const open = window.__test.connections.filter((c) => c.connectionState !== "closed");
    const counts = [];
    for (const pc of open) {
      let frames = 0;
      for (const report of (await pc.getStats()).values()) {
        if (report.type === "inbound-rtp" && report.kind === "video") frames += report.framesDecoded ?? 0;
      }
      counts.push(frames);
    }
    return counts;
  });
}

/** The page decodes video from two peers, and keeps decoding, and its two tiles show it. */
async function receivesTwoVideos(page, who) {
  const first = await eventually(
    `${who} to decode video on two connections`,
    async () => {
      const counts = await framesPerConnection(page);
      return counts.length === 2 && counts.every((n) => n > 0) ? counts : null;
    },
    40_000,
  );
  await eventually(
    `${who}'s decoded frames to grow on both connections`,
    async () => {
      const counts = await framesPerConnection(page);
      return counts.length === 2 && counts.every((n, i) => n > first[i] + 10);
    },
    20_000,
  );
  await eventually(`${who}'s tiles to show both videos`, async () => {
    const shown = await page
      .getByTestId("remote-video")
      .evaluateAll((videos) => videos.filter((v) => v.readyState >= 2 && v.videoWidth > 0).length);
    return shown === 2;
  });
}

test("a moderator and two speakers see each other in the green room; a speaker leaves; an attendee is refused", async (t) => {
  await scenario(
    t,
    { sessions: SESSIONS, chromiumArgs: FAKE_MEDIA_FLAGS },
    async ({ node, newPage, errors }) => {
      const people = [
        { who: "the moderator", token: node.token("mod-mia", "Mia Moderator", ["moderator"]) },
        { who: "Ana", token: node.token("speaker-ana", "Ana Speaker", ["speaker"], ["speak:opening"]) },
        { who: "Ben", token: node.token("speaker-ben", "Ben Speaker", ["speaker"], ["speak:opening"]) },
      ];
      const pages = [];
      for (const person of people) {
        const page = await newPage();
        await instrument(page);
        await page.goto(`${node.url}/sessions/opening/green?token=${person.token}`);
        await page.getByRole("heading", { level: 1, name: HEADING }).waitFor();
        pages.push(page);
      }
      const [mia, ana, ben] = pages;
      // Everyone is listed on every page.
      for (const page of pages) {
        await eventually(
          "three members listed",
          async () => (await page.getByTestId("green-members").locator("li").count()) === 3,
        );
      }
      for (const page of pages)
        await page.getByRole("button", { name: "Start camera and microphone" }).click();
      for (const [i, page] of pages.entries()) await receivesTwoVideos(page, people[i].who);
      // Words: each other member is connected, with the camera on.
      await eventually("Mia's page to say Ana is connected", async () =>
        /Ana Speaker: connected; microphone on, camera on/.test(
          await mia.getByTestId("green-members").textContent(),
        ),
      );

      // Accessible with three people in it.
      assert.deepEqual(await violations(mia), [], "green room page");

      // Ben leaves: back on the session page, where speakers find the link again.
      await ben.getByRole("button", { name: "Leave the green room" }).click();
      await ben.getByRole("heading", { level: 1, name: "Opening Ceremony" }).waitFor();
      await ben.getByRole("link", { name: "Green room" }).waitFor();
      for (const [page, who] of [
        [mia, "Mia"],
        [ana, "Ana"],
      ]) {
        await eventually(`${who}'s page to say Ben left`, async () =>
          /Ben Speaker left the green room/.test(await page.getByTestId("green-news").textContent()),
        );
        await eventually(`${who}'s list without Ben`, async () => {
          const text = await page.getByTestId("green-members").textContent();
          return (
            !text.includes("Ben Speaker") && text.includes("Ana Speaker") && text.includes("Mia Moderator")
          );
        });
        await eventually(
          `${who}'s connection to Ben closed`,
          async () => (await framesPerConnection(page)).length === 1,
        );
        assert.equal(await page.getByTestId("remote-video").count(), 1);
      }

      // An attendee sees no link on the session page, and is refused with a clear message.
      const attendee = await newPage();
      await attendee.goto(`${node.url}/sessions/opening?token=${node.token("guest-zoe", "Zoe")}`);
      await attendee.getByRole("heading", { level: 1, name: "Opening Ceremony" }).waitFor();
      assert.equal(await attendee.getByRole("link", { name: "Green room" }).count(), 0);
      await attendee.goto(`${node.url}/sessions/opening/green`);
      await attendee.getByRole("heading", { level: 1, name: "You cannot join this green room." }).waitFor();
      assert.match(
        await attendee.getByRole("alert").first().textContent(),
        /The green room is for this session's speakers and moderators\./,
      );
      assert.deepEqual(errors, []);
    },
  );
});
