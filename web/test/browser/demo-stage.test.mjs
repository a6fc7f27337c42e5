// The first run's promise: on the demo event (PLENARY_DEMO_EVENT), a live session's WebRTC
// stage plays offline, with moving video and sound from the clip the node loops through its
// own SFU. An attendee's page decodes its frames and receives its audio; nothing else is
// seeded, and no stream comes from outside the machine.
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventually, scenario } from "./harness.mjs";

/** Counts what the page's peer connections received, found by wrapping the constructor. */
async function instrument(page) {
  await page.addInitScript(() => {
    const NativePeer = window.RTCPeerConnection;
    const connections = [];
    window.__test = { connections };
    window.RTCPeerConnection = class extends NativePeer {
      constructor(...args) {
        super(...args);
        connections.push(this);
      }
    };
  });
}

async function received(page) {
  return page.evaluate(async () => {
    const totals = { framesDecoded: 0, audioBytes: 0 };
    for (const pc of window.__test.connections.filter((c) => c.connectionState !== "closed")) {
      for (const report of (await pc.getStats()).values()) {
        if (report.type !== "inbound-rtp") continue;
        if (report.kind === "video") totals.framesDecoded += report.framesDecoded ?? 0;
        if (report.kind === "audio") totals.audioBytes += report.bytesReceived ?? 0;
      }
    }
    return totals;
  });
}

test("the demo event's live session plays its stage offline on first run", {
  timeout: 120_000,
}, async (t) => {
  await scenario(t, { env: { PLENARY_DEMO_EVENT: "true" } }, async ({ node, newPage, errors }) => {
    const page = await newPage();
    await instrument(page);
    await page.goto(`${node.url}/sessions/opening-ceremony?token=${node.token("guest-ida", "Ida Attendee")}`);
    const first = await eventually(
      "the demo stage's video to decode and its sound to arrive",
      async () => {
        const now = await received(page);
        return now.framesDecoded > 0 && now.audioBytes > 0 ? now : null;
      },
      40_000,
    );
    await eventually(
      "the demo stage to keep playing",
      async () => {
        const now = await received(page);
        return now.framesDecoded > first.framesDecoded + 15 && now.audioBytes > first.audioBytes;
      },
      20_000,
    );
    await page.getByLabel("Demo speaker's camera").first().waitFor();
    assert.deepEqual(errors, []);
  });
});
