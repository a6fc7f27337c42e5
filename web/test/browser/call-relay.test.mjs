// A member who must not reveal its address calls through the event's TURN server: with
// "Hide my IP address (relay only)" the page's connection gathers only relay candidates,
// from credentials the node derived for this member (coturn `use-auth-secret`, Debian's
// coturn on loopback), and the call connects over a relay candidate.
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventually, FAKE_MEDIA_FLAGS, freePort, scenario, startTurn, stopProcess } from "./harness.mjs";

const SESSIONS = [{ id: "opening", title: "Opening Ceremony" }];
const ITU = "International Telecommunication Union";
const SECRET = "browser-test-turn-secret-0123456789";

/** Records the page's peer connections (no hook in the client) and asks for relay only. */
async function instrument(page, relayOnly) {
  await page.addInitScript((relayOnly) => {
    if (relayOnly) localStorage.setItem("plenary.call.relayOnly", "true");
    const Native = window.RTCPeerConnection;
    const connections = [];
    window.__test = { connections };
    window.RTCPeerConnection = class extends Native {
      constructor(...args) {
        super(...args);
        connections.push(this);
      }
    };
  }, relayOnly);
}

/** The local candidate type of the page's selected candidate pair, once there is one. */
async function selectedLocalType(page) {
  return page.evaluate(async () => {
    const pc = window.__test.connections.findLast((c) => c.connectionState === "connected");
    if (!pc) return null;
    const stats = [...(await pc.getStats()).values()];
    const transport = stats.find((r) => r.type === "transport" && r.selectedCandidatePairId);
    const pair = stats.find((r) => r.id === transport?.selectedCandidatePairId);
    const local = stats.find((r) => r.id === pair?.localCandidateId);
    return local ? { type: local.candidateType, policy: pc.getConfiguration().iceTransportPolicy } : null;
  });
}

test("a relay-only member connects through TURN with credentials the node gave it", async (t) => {
  const port = await freePort();
  const turn = await startTurn(port, SECRET);
  t.after(() => stopProcess(turn));
  const env = {
    PLENARY_TURN_URLS: `turn:127.0.0.1:${port}?transport=udp`,
    PLENARY_TURN_SECRET: SECRET,
  };
  await scenario(
    t,
    { sessions: SESSIONS, env, chromiumArgs: FAKE_MEDIA_FLAGS },
    async ({ node, newPage, errors }) => {
      await node.api("PUT", "/api/booths/itu", {
        id: "itu",
        organisation: ITU,
        description: "Connecting the world.",
        links: [],
        tags: [],
        staff: ["staff-ana"],
      });
      const visitor = await newPage();
      const staff = await newPage();
      await instrument(visitor, true);
      await instrument(staff, false);
      await staff.goto(`${node.url}/booths/itu?token=${node.token("staff-ana", "Ana Exhibitor")}`);
      await staff.getByRole("heading", { name: "Exhibitor console" }).waitFor();
      await visitor.goto(`${node.url}/booths/itu?token=${node.token("kofi", "Kofi Mensah")}`);
      await visitor.getByRole("button", { name: "Talk to someone" }).click();
      await staff.getByRole("button", { name: "Accept the request from Kofi Mensah" }).click();
      await staff.getByRole("link", { name: "Join the private call with Kofi Mensah" }).first().click();
      await visitor.getByRole("link", { name: "Join the private call" }).click();
      await visitor.getByRole("heading", { level: 1, name: "Private call with Ana Exhibitor" }).waitFor();
      assert.equal(await visitor.getByLabel("Hide my IP address (relay only)").isChecked(), true);

      await visitor.getByRole("button", { name: "Start camera and microphone" }).click();
      const selected = await eventually(
        "the visitor's connection over a candidate pair",
        () => selectedLocalType(visitor),
        30_000,
      );
      assert.deepEqual(
        selected,
        { type: "relay", policy: "relay" },
        "relay only: the visitor's own address is never used",
      );
      // The staff side, not relay-only, still reaches the visitor only through the relay.
      const other = await eventually(
        "the staff member's candidate pair",
        () => selectedLocalType(staff),
        30_000,
      );
      assert.equal(other.policy, "all");
      assert.deepEqual(errors, []);
    },
  );
});
