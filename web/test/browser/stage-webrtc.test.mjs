// A session on Plenary's own WebRTC stage (the node's SFU). In a keynote, a speaker raises a
// hand, a moderator brings them on, and they go live with the fake camera and microphone; two
// attendees' pages decode the speaker's video; one switches to audio only and from then on
// receives sound but no video bytes, while the other still decodes video; the speaker leaves
// the stage and both attendees' pages say it is empty. In a workshop, an attendee raises a
// hand, goes live once brought on, and is taken off again by the moderator.
// The pages' peer connections are read with getStats(), found by wrapping the
// RTCPeerConnection constructor before the page's scripts run: the client has no test hook.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import { eventually, FAKE_MEDIA_FLAGS, scenario } from "./harness.mjs";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const KEYNOTE = [{ id: "opening", title: "Opening Ceremony", kind: "keynote", stage: { kind: "webrtc" } }];
const WORKSHOP = [{ id: "opening", title: "Opening Ceremony", kind: "workshop", stage: { kind: "webrtc" } }];
const EMPTY = "Nobody is on stage yet.";

/** Serious and critical axe violations on the page, as readable lines. */
async function violations(page) {
  await page.evaluate(axeSource);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** Records the page's peer connections and WebSockets, without any hook in the client. */
async function instrument(page) {
  await page.addInitScript(() => {
    const NativePeer = window.RTCPeerConnection;
    const NativeSocket = window.WebSocket;
    const connections = [];
    const sockets = [];
    window.__test = { connections, sockets };
    window.RTCPeerConnection = class extends NativePeer {
      constructor(...args) {
        super(...args);
        connections.push(this);
      }
    };
    window.WebSocket = class extends NativeSocket {
      constructor(...args) {
        super(...args);
        sockets.push(this);
      }
    };
  });
}

/** How many peer connections the page has made so far. */
const peerCount = (page) => page.evaluate(() => window.__test.connections.length);

/** What the page's open peer connections received: bytes by kind, video frames decoded. */
async function received(page) {
  return page.evaluate(async () => {
    const totals = { videoBytes: 0, audioBytes: 0, framesDecoded: 0, liveVideoLines: 0 };
    for (const pc of window.__test.connections.filter((c) => c.connectionState !== "closed")) {
      for (const report of (await pc.getStats()).values()) {
        if (report.type !== "inbound-rtp") continue;
        if (report.kind === "video") {
          totals.videoBytes += report.bytesReceived ?? 0;
          totals.framesDecoded += report.framesDecoded ?? 0;
        } else if (report.kind === "audio") {
          totals.audioBytes += report.bytesReceived ?? 0;
        }
      }
      totals.liveVideoLines += pc
        .getTransceivers()
        .filter(
          (t) => t.receiver.track.kind === "video" && !["stopped", "inactive"].includes(t.currentDirection),
        ).length;
    }
    return totals;
  });
}

/** The page decodes the stage's video, keeps decoding it, and its large tile shows `name`'s camera. */
async function seesVideo(page, who, name = "Ana Speaker") {
  const first = await eventually(
    `${who} to decode the speaker's video`,
    async () => {
      const now = await received(page);
      return now.framesDecoded > 0 ? now : null;
    },
    40_000,
  );
  await eventually(
    `${who}'s decoded frames to grow`,
    async () => (await received(page)).framesDecoded > first.framesDecoded + 10,
    20_000,
  );
  await eventually(`${who}'s large tile to show the camera`, async () =>
    page
      .getByRole("figure")
      .filter({ has: page.getByLabel(`${name}'s camera`) })
      .locator("video")
      .evaluate((v) => v.readyState >= 2 && v.videoWidth > 0),
  );
}

/** The page's status line about its own place on stage. */
const publishState = (page) => page.getByTestId("stage-publish-state").textContent();

/**
 * `person` raises a hand and waits for a moderator; the moderator's page lists and announces
 * the hand, and brings them on; `person`'s page then offers to go live.
 */
async function bringOnStage(person, moderator, name, { speaker }) {
  await person.getByRole("button", { name: "Raise hand" }).click();
  await person.getByRole("button", { name: "Lower hand" }).waitFor();
  assert.match(await publishState(person), /Waiting for a moderator/);
  const hands = moderator.getByTestId("lineup-hands");
  await hands.getByText(name).waitFor();
  assert.equal(await hands.getByText("speaker", { exact: true }).count(), speaker ? 1 : 0);
  await hands.getByText("raised just now").waitFor();
  await eventually("the moderator's page to announce the hand", async () =>
    (await moderator.getByTestId("lineup-announcer").textContent()).includes(`${name}`),
  );
  await moderator.getByRole("button", { name: `Bring on stage: ${name}` }).click();
  await moderator.getByTestId("lineup-on-stage").getByText(name).waitFor();
  await moderator.getByText("No hands are raised.").waitFor();
  await person.getByRole("button", { name: "Go live" }).waitFor();
  assert.match(await publishState(person), /You are on stage: a moderator brought you on/);
}

async function openSession(page, url, token) {
  await instrument(page);
  await page.goto(`${url}/sessions/opening?token=${token}`);
  await page.getByRole("heading", { level: 1, name: "Opening Ceremony" }).waitFor();
}

test("a speaker brought on by a moderator goes live, two attendees watch, one switches to audio only, the speaker leaves", {
  timeout: 240_000,
}, async (t) => {
  await scenario(
    t,
    { sessions: KEYNOTE, chromiumArgs: FAKE_MEDIA_FLAGS },
    async ({ node, newPage, errors }) => {
      const moderator = await newPage();
      await openSession(moderator, node.url, node.token("mod-mia", "Mia Moderator", ["moderator"]));
      const speaker = await newPage();
      await openSession(
        speaker,
        node.url,
        node.token("speaker-ana", "Ana Speaker", ["speaker"], ["speak:opening"]),
      );
      const viewers = [];
      for (const [sub, name] of [
        ["guest-vic", "Vic Viewer"],
        ["guest-wen", "Wen Viewer"],
      ]) {
        const page = await newPage();
        await openSession(page, node.url, node.token(sub, name));
        viewers.push(page);
      }
      const [vic, wen] = viewers;

      // Before anyone publishes, the view connects (the node's offer has a data channel) and
      // says the stage is empty; attendees have no way onto the stage.
      for (const [page, who] of [
        [vic, "Vic"],
        [wen, "Wen"],
        [speaker, "the speaker"],
      ]) {
        await page.getByText(EMPTY).waitFor();
        await eventually(`${who}'s view to connect`, async () =>
          /Connected to the stage\./.test(await page.getByTestId("stage-connection").textContent()),
        );
      }
      // In a keynote an attendee only watches; the speaker cannot go live before a moderator
      // brought them on.
      for (const name of ["Go on stage", "Go live", "Raise hand"]) {
        assert.equal(await vic.getByRole("button", { name }).count(), 0, name);
      }
      assert.equal(await speaker.getByRole("button", { name: "Go on stage" }).count(), 0);
      assert.equal(await speaker.getByRole("button", { name: "Go live" }).count(), 0);

      // The speaker raises a hand, the moderator brings them on, and they go live.
      await bringOnStage(speaker, moderator, "Ana Speaker", { speaker: true });
      assert.deepEqual(await violations(moderator), [], "the moderator's lineup");
      await speaker.getByRole("button", { name: "Go live" }).click();
      await eventually(
        "the speaker's page to say they are on stage",
        async () => /You are on stage: everyone/.test(await publishState(speaker)),
        30_000,
      );
      await moderator.getByTestId("lineup-on-stage").getByText("live now").waitFor({ timeout: 20_000 });
      await speaker.getByRole("button", { name: "Mute microphone" }).waitFor();

      for (const [page, who] of [
        [vic, "Vic"],
        [wen, "Wen"],
      ]) {
        await seesVideo(page, who);
        assert.match(await page.getByTestId("stage-people").textContent(), /On stage: Ana Speaker/);
        // The browser may keep the sound until a gesture on the page: the button starts it.
        const play = page.getByRole("button", { name: "Play sound" });
        if (await play.isVisible()) {
          await play.click();
          await eventually(`${who}'s sound to start`, async () => !(await play.isVisible()));
        }
      }
      assert.deepEqual(await violations(vic), [], "the live stage");

      // Vic chooses audio only: the node stops the video lines in a new offer.
      await vic.getByLabel("Video quality").selectOption("audio_only");
      await eventually(
        "Vic's video lines to stop",
        async () => (await received(vic)).liveVideoLines === 0,
        20_000,
      );
      await vic.getByText("Video is off: you chose audio only.").waitFor();
      const before = await received(vic);
      const wenBefore = await received(wen);
      await new Promise((r) => setTimeout(r, 3_000));
      const after = await received(vic);
      assert.ok(
        after.videoBytes <= before.videoBytes,
        `no video bytes after audio only (${before.videoBytes} then ${after.videoBytes})`,
      );
      assert.ok(
        after.audioBytes > before.audioBytes,
        `sound keeps arriving (${before.audioBytes} then ${after.audioBytes})`,
      );
      assert.ok((await received(wen)).framesDecoded > wenBefore.framesDecoded, "Wen still decodes video");

      // The WebSockets of the speaker and of Wen drop (the node ends their media with them):
      // both pages reconnect by themselves, the speaker is back on stage and Wen sees the video
      // again on a new connection, without a reload; Vic (audio only) hears the speaker again.
      const peersBefore = { speaker: await peerCount(speaker), wen: await peerCount(wen) };
      const vicSound = (await received(vic)).audioBytes;
      for (const page of [speaker, wen]) await page.evaluate(() => window.__test.sockets.at(-1).close());
      await eventually(
        "new peer connections on both pages",
        async () =>
          (await peerCount(speaker)) >= peersBefore.speaker + 2 && (await peerCount(wen)) > peersBefore.wen,
        20_000,
      );
      await eventually(
        "the speaker's page to say they are on stage again",
        async () => /You are on stage: everyone/.test(await publishState(speaker)),
        30_000,
      );
      await seesVideo(wen, "Wen after reconnecting");
      await eventually(
        "Vic to hear the speaker again",
        async () => (await received(vic)).audioBytes > vicSound + 2_000,
        20_000,
      );
      assert.equal(await vic.getByTestId("stage-video").count(), 0, "Vic still has audio only");

      // The speaker leaves the stage: everyone sees it empty, and the speaker, still in the
      // lineup, may go live again.
      await speaker.getByRole("button", { name: "Leave the stage" }).click();
      await speaker.getByRole("button", { name: "Go live" }).waitFor();
      for (const page of [vic, wen, speaker]) await page.getByText(EMPTY).waitFor({ timeout: 15_000 });
      await eventually("the speaker's view to connect again", async () =>
        /Connected to the stage\./.test(await speaker.getByTestId("stage-connection").textContent()),
      );
      assert.deepEqual(errors, []);
    },
  );
});

/** The viewer's tiles, large first: each one's source and caption. */
const tiles = (page) =>
  page
    .getByTestId("stage-tile")
    .evaluateAll((figures) =>
      figures.map(
        (f) => `${f.classList.contains("large") ? "large " : ""}${f.dataset.source}: ${f.textContent}`,
      ),
    );

test("a moderator's screen share is shown large, the camera goes off and on; another session's speaker may not raise a hand", {
  timeout: 180_000,
}, async (t) => {
  const chromiumArgs = [...FAKE_MEDIA_FLAGS, "--auto-select-desktop-capture-source=Entire screen"];
  await scenario(t, { sessions: KEYNOTE, chromiumArgs }, async ({ node, newPage, errors }) => {
    const moderator = await newPage();
    await openSession(moderator, node.url, node.token("mod-mia", "Mia Moderator", ["moderator"]));
    const viewer = await newPage();
    await openSession(viewer, node.url, node.token("guest-vic", "Vic Viewer"));
    await viewer.getByText(EMPTY).waitFor();

    await moderator.getByRole("button", { name: "Go on stage" }).click();
    await moderator.getByRole("button", { name: "Share screen" }).click();
    await moderator.getByText("You are sharing your screen.").waitFor({ timeout: 20_000 });
    await eventually(
      "the screen large and the camera small",
      async () =>
        JSON.stringify(await tiles(viewer)) ===
        JSON.stringify(["large screen: Mia Moderator's screen", "camera: Mia Moderator"]),
      30_000,
    );
    await eventually("the screen share to play", () =>
      viewer.getByLabel("Mia Moderator's screen").evaluate((v) => v.readyState >= 2 && v.videoWidth > 0),
    );

    // The camera off takes it off the stage (no black tile); on again brings it back.
    await moderator.getByRole("button", { name: "Turn camera off" }).click();
    await eventually(
      "the camera to leave the stage",
      async () =>
        JSON.stringify(await tiles(viewer)) === JSON.stringify(["large screen: Mia Moderator's screen"]),
      20_000,
    );
    await moderator.getByRole("button", { name: "Turn camera on" }).click();
    await eventually("the camera back on stage", async () => (await tiles(viewer)).length === 2, 20_000);
    await moderator.getByRole("button", { name: "Stop sharing" }).click();
    await eventually(
      "the camera large once the share stopped",
      async () => JSON.stringify(await tiles(viewer)) === JSON.stringify(["large camera: Mia Moderator"]),
      20_000,
    );

    // A speaker of another session sees "Raise hand" (grants are not visible to the client),
    // and the node's refusal is said in words; no hand reaches the moderator.
    const other = await newPage();
    await openSession(
      other,
      node.url,
      node.token("speaker-sam", "Sam Speaker", ["speaker"], ["speak:other"]),
    );
    assert.equal(await other.getByRole("button", { name: "Go on stage" }).count(), 0);
    await other.getByRole("button", { name: "Raise hand" }).click();
    await eventually("the refusal in words", async () =>
      (await other.getByRole("alert").allTextContents()).some((text) =>
        /You cannot raise your hand in this session: only its speakers can ask/.test(text),
      ),
    );
    await other.getByRole("button", { name: "Raise hand" }).waitFor();
    assert.equal(await moderator.getByTestId("lineup-hands").count(), 0);
    assert.match(await viewer.getByTestId("stage-people").textContent(), /^On stage: Mia Moderator$/);
    assert.deepEqual(errors, []);
  });
});

test("in a workshop an attendee raises a hand, is brought on, goes live, and is taken off", {
  timeout: 240_000,
}, async (t) => {
  await scenario(
    t,
    { sessions: WORKSHOP, chromiumArgs: FAKE_MEDIA_FLAGS },
    async ({ node, newPage, errors }) => {
      const moderator = await newPage();
      await openSession(moderator, node.url, node.token("mod-mia", "Mia Moderator", ["moderator"]));
      const ali = await newPage();
      await openSession(ali, node.url, node.token("guest-ali", "Ali Attendee"));
      const viewers = [];
      for (const [sub, name] of [
        ["guest-vic", "Vic Viewer"],
        ["guest-wen", "Wen Viewer"],
      ]) {
        const page = await newPage();
        await openSession(page, node.url, node.token(sub, name));
        viewers.push(page);
      }
      const [vic, wen] = viewers;
      await moderator.getByText("Nobody has been brought on stage.").waitFor();

      // Any member of a workshop may ask; Ali is brought on and goes live.
      await bringOnStage(ali, moderator, "Ali Attendee", { speaker: false });
      await ali.getByRole("button", { name: "Go live" }).click();
      await eventually(
        "Ali's page to say they are on stage",
        async () => /You are on stage: everyone/.test(await publishState(ali)),
        30_000,
      );
      for (const [page, who] of [
        [vic, "Vic"],
        [wen, "Wen"],
      ]) {
        await seesVideo(page, who, "Ali Attendee");
        assert.match(await page.getByTestId("stage-people").textContent(), /On stage: Ali Attendee/);
      }

      // The moderator takes Ali off: the node stops the publishing, every stage empties, and
      // Ali's page says so, has stopped its camera and microphone, and offers a hand again.
      await moderator.getByRole("button", { name: "Take off stage: Ali Attendee" }).click();
      await moderator.getByText("Nobody has been brought on stage.").waitFor();
      for (const page of [vic, wen, ali]) await page.getByText(EMPTY).waitFor({ timeout: 20_000 });
      await eventually("Ali's page to say they were taken off", async () =>
        /A moderator took you off the stage/.test(await publishState(ali)),
      );
      await ali.getByRole("button", { name: "Raise hand" }).waitFor();
      assert.equal(await ali.getByRole("button", { name: "Go live" }).count(), 0);
      assert.equal(await ali.getByRole("button", { name: "Leave the stage" }).count(), 0);
      await eventually("Ali's camera and microphone to stop", () =>
        ali.evaluate(() =>
          window.__test.connections.every(
            (pc) =>
              pc.connectionState === "closed" ||
              pc.getSenders().every((sender) => !sender.track || sender.track.readyState === "ended"),
          ),
        ),
      );
      await eventually("Ali's own view of the stage to stay connected", async () =>
        /Connected to the stage\./.test(await ali.getByTestId("stage-connection").textContent()),
      );
      assert.deepEqual(errors, []);
    },
  );
});
