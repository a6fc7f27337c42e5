// Video in a private call: a visitor on one node and the booth's staff member on another
// (one Redis between them) start their cameras and each decodes the other's video; mute
// states reach the other side in words; leaving stops the devices and tells the other side.
// And a visitor who refuses the camera is told so clearly, and still sees and hears the
// staff member. Chromium runs with fake devices that need no permission prompt.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import {
  chatTexts,
  eventually,
  FAKE_MEDIA_FLAGS,
  freePort,
  Node,
  scenario,
  sendChat,
  startRedis,
  stopProcess,
} from "./harness.mjs";

const SESSIONS = [{ id: "opening", title: "Opening Ceremony" }];
const ITU = "International Telecommunication Union";
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Serious and critical axe violations on the page, as readable lines. */
async function violations(page) {
  await page.evaluate(axeSource);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** ITU's booth on `node`, with Ana on its staff. */
async function putBooth(node) {
  await node.api("PUT", "/api/booths/itu", {
    id: "itu",
    organisation: ITU,
    description: "Connecting the world.",
    links: [],
    tags: [],
    staff: ["staff-ana"],
  });
}

/**
 * Lets the test see the page's peer connections and camera tracks without any hook in the
 * client: the constructor and getUserMedia are wrapped before the page's scripts run.
 * With `deny`, getUserMedia refuses as a browser does when the user blocks the camera.
 */
async function instrument(page, { deny = false } = {}) {
  await page.addInitScript((deny) => {
    const Native = window.RTCPeerConnection;
    const connections = [];
    const tracks = [];
    window.__test = { connections, tracks };
    window.RTCPeerConnection = class extends Native {
      constructor(...args) {
        super(...args);
        connections.push(this);
      }
    };
    const devices = navigator.mediaDevices;
    const getUserMedia = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
      if (deny) throw new DOMException("Permission denied", "NotAllowedError");
      const stream = await getUserMedia(constraints);
      tracks.push(...stream.getTracks());
      return stream;
    };
  }, deny);
}

/** Video frames the page's current peer connection has decoded from the other side. */
async function framesDecoded(page) {
  return page.evaluate(async () => {
    const pc = window.__test.connections.findLast((c) => c.connectionState !== "closed");
    if (!pc) return 0;
    let frames = 0;
    for (const report of (await pc.getStats()).values()) {
      if (report.type === "inbound-rtp" && report.kind === "video") frames += report.framesDecoded ?? 0;
    }
    return frames;
  });
}

/**
 * The page keeps decoding the other side's video (the count grows between two reads) and
 * shows it: decoding alone is not enough, Chromium decodes a stream it then never renders.
 */
async function receivesVideo(page, who) {
  const first = await eventually(`${who} to decode video`, () => framesDecoded(page), 30_000);
  await eventually(
    `${who}'s decoded frames to grow`,
    async () => (await framesDecoded(page)) > first + 10,
    20_000,
  );
  await eventually(`${who}'s page to show the video`, () =>
    page.getByTestId("remote-video").evaluate((video) => video.readyState >= 2 && video.videoWidth > 0),
  );
}

/** The id of the audio track the page's current peer connection sends. */
async function sentAudioTrack(page) {
  return page.evaluate(
    () =>
      window.__test.connections
        .findLast((c) => c.connectionState !== "closed")
        ?.getSenders()
        .find((s) => s.track?.kind === "audio")?.track.id ?? null,
  );
}

/** Opens `path` with a token link and waits for its level-1 heading. */
async function open(page, node, path, token, heading) {
  await page.goto(`${node.url}${path}?token=${token}`);
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
}

/**
 * Kofi (on `visitorNode`) asks ITU's booth to talk, Ana (on `staffNode`) accepts; both open
 * the call page. Returns once both see it.
 */
async function openCall({ visitor, visitorNode, staff, staffNode }) {
  await open(staff, staffNode, "/booths/itu", staffNode.token("staff-ana", "Ana Exhibitor"), ITU);
  await staff.getByRole("heading", { name: "Exhibitor console" }).waitFor();
  await open(visitor, visitorNode, "/booths/itu", visitorNode.token("kofi", "Kofi Mensah"), ITU);
  // On another node, Ana shows on duty after a presence round.
  await visitor.locator(".staff-list", { hasText: "Ana Exhibitor" }).getByText("Available").waitFor();
  await visitor.getByRole("button", { name: "Talk to someone" }).click();
  await visitor.getByText("You are number 1 in the queue.").waitFor();
  await staff.getByRole("button", { name: "Accept the request from Kofi Mensah" }).click();
  await staff.getByRole("link", { name: "Join the private call with Kofi Mensah" }).first().click();
  await visitor.getByRole("link", { name: "Join the private call" }).click();
  await visitor.getByRole("heading", { level: 1, name: "Private call with Ana Exhibitor" }).waitFor();
  await staff.getByRole("heading", { level: 1, name: "Private call with Kofi Mensah" }).waitFor();
}

const state = (page) => page.getByTestId("call-state");
const peerMedia = (page) => page.getByTestId("peer-media");

async function hasText(locator, text) {
  return ((await locator.textContent()) ?? "").includes(text);
}

test("a visitor and a staff member on two nodes see and hear each other", async (t) => {
  const port = await freePort();
  const redis = await startRedis(port);
  t.after(() => stopProcess(redis));
  const env = { REDIS_URL: `redis://127.0.0.1:${port}`, PLENARY_REDIS_PREFIX: "call-video:" };
  await scenario(
    t,
    { sessions: SESSIONS, env, chromiumArgs: FAKE_MEDIA_FLAGS },
    async ({ node, newPage, errors }) => {
      // The second node has its own database: the same programme goes into both.
      const other = await Node.start(env);
      t.after(() => other.close());
      await other.seed(SESSIONS);
      await putBooth(node);
      await putBooth(other);

      const visitor = await newPage({ viewport: { width: 390, height: 844 } });
      const staff = await newPage();
      await instrument(visitor);
      await instrument(staff);
      await openCall({ visitor, visitorNode: node, staff, staffNode: other });

      // Connected before anyone's camera is on: nothing starts without being asked for.
      await eventually("the visitor connected", () => hasText(state(visitor), "Connected to Ana Exhibitor."));
      await eventually("the staff member connected", () =>
        hasText(state(staff), "Connected to Kofi Mensah."),
      );
      assert.equal(await visitor.evaluate(() => window.__test.tracks.length), 0, "no camera before asking");
      await eventually("Ana's devices in words", () =>
        hasText(peerMedia(visitor), "Ana Exhibitor's camera and microphone are off."),
      );

      // Both start at the same moment (each one's renegotiation crosses the other's), the
      // visitor from the keyboard.
      await visitor.getByRole("button", { name: "Start camera and microphone" }).focus();
      await visitor.keyboard.press("Enter");
      await staff.getByRole("button", { name: "Start camera and microphone" }).click();
      // The start buttons give way to the mute buttons, and the focus stays in the controls.
      const mute = visitor.getByRole("button", { name: "Mute microphone" });
      await mute.waitFor();
      await eventually("focus on the mute button", () =>
        visitor.evaluate(() => document.activeElement?.textContent === "Mute microphone"),
      );
      await staff.getByRole("button", { name: "Turn camera off" }).waitFor();
      await eventually("Ana's devices on", () =>
        hasText(peerMedia(visitor), "Ana Exhibitor's camera and microphone are on."),
      );
      await eventually("Kofi's devices on", () =>
        hasText(peerMedia(staff), "Kofi Mensah's camera and microphone are on."),
      );
      await receivesVideo(visitor, "the visitor");
      await receivesVideo(staff, "the staff member");

      // Devices are listed once allowed, in labelled selects.
      await staff.getByLabel("Camera", { exact: true }).waitFor();
      assert.ok((await staff.getByLabel("Microphone", { exact: true }).locator("option").count()) >= 1);
      // Switching the microphone replaces the track the connection sends.
      const microphone = staff.getByLabel("Microphone", { exact: true });
      const microphones = await microphone.locator("option").evaluateAll((os) => os.map((o) => o.value));
      assert.ok(microphones.length > 1, "Chromium's fake devices include several microphones");
      const sentBefore = await sentAudioTrack(staff);
      const current = await microphone.inputValue();
      await microphone.selectOption(microphones.find((m) => m !== current));
      await eventually("the new microphone sent", async () => (await sentAudioTrack(staff)) !== sentBefore);
      assert.ok(await sentAudioTrack(staff), "a microphone is still sent");

      // Muting, by keyboard, reaches the other side in words.
      await mute.focus();
      await visitor.keyboard.press("Space");
      assert.equal(await mute.getAttribute("aria-pressed"), "true");
      await eventually("Kofi muted, in words", () =>
        hasText(peerMedia(staff), "Kofi Mensah's microphone is muted; their camera is on."),
      );
      await staff.getByRole("button", { name: "Turn camera off" }).click();
      await eventually("Ana's camera off, in words", () =>
        hasText(peerMedia(visitor), "Ana Exhibitor's camera is off; their microphone is on."),
      );
      await staff.getByRole("button", { name: "Turn camera off" }).click();
      await eventually("Ana's camera back", () =>
        hasText(peerMedia(visitor), "Ana Exhibitor's camera and microphone are on."),
      );

      // The page stays accessible and fits a phone.
      assert.deepEqual(await violations(visitor), [], "call page (visitor, phone)");
      assert.deepEqual(await violations(staff), [], "call page (staff)");
      const overflow = await visitor.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal overflow on a phone (${overflow}px)`);

      // Ana reloads her page: the call connects again by itself (her camera waits for her).
      await staff.reload();
      await staff.getByRole("heading", { level: 1, name: "Private call with Kofi Mensah" }).waitFor();
      await eventually("Ana connected again", () => hasText(state(staff), "Connected to Kofi Mensah."));
      await eventually("Kofi connected again", () => hasText(state(visitor), "Connected to Ana Exhibitor."));
      await receivesVideo(staff, "the staff member, after reloading");
      await staff.getByRole("button", { name: "Start camera and microphone" }).click();
      await receivesVideo(visitor, "the visitor, after Ana reloaded");

      // Leaving: back to the booth, devices off, and Ana is told.
      await visitor.getByRole("button", { name: "Leave the call" }).click();
      await visitor.getByRole("heading", { level: 1, name: ITU }).waitFor();
      assert.ok(
        await visitor.evaluate(() => window.__test.tracks.every((track) => track.readyState === "ended")),
        "the camera and microphone are stopped",
      );
      await eventually("Ana told that Kofi left", () => hasText(state(staff), "Kofi Mensah left the call."));
      assert.deepEqual(errors, []);
    },
  );
});

test("a visitor who blocks the camera is told so, and still sees the staff member", async (t) => {
  await scenario(
    t,
    { sessions: SESSIONS, chromiumArgs: FAKE_MEDIA_FLAGS },
    async ({ node, newPage, errors }) => {
      await putBooth(node);
      const visitor = await newPage();
      const staff = await newPage();
      await instrument(visitor, { deny: true });
      await instrument(staff);
      await openCall({ visitor, visitorNode: node, staff, staffNode: node });

      await visitor.getByRole("button", { name: "Start camera and microphone" }).click();
      await visitor
        .getByRole("alert")
        .getByText("You did not allow this site to use your camera and microphone.", { exact: false })
        .waitFor();
      // The way to try again stays.
      await visitor.getByRole("button", { name: "Start camera and microphone" }).waitFor();

      await staff.getByRole("button", { name: "Start camera and microphone" }).click();
      await eventually("the visitor connected", () => hasText(state(visitor), "Connected to Ana Exhibitor."));
      await receivesVideo(visitor, "the visitor");
      await eventually("Kofi's devices off, in words", () =>
        hasText(peerMedia(staff), "Kofi Mensah's camera and microphone are off."),
      );
      // The chat works all along.
      await sendChat(visitor, "My camera is blocked, can we chat?");
      await eventually("Ana to read it", async () =>
        (await chatTexts(staff)).includes("My camera is blocked, can we chat?"),
      );
      assert.deepEqual(await violations(visitor), [], "call page with the camera refused");
      assert.deepEqual(errors, []);
    },
  );
});
