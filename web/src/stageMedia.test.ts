// The WebRTC stage of a session room, with a fake node (src/fakes.ts) and fake browser objects
// (src/stageFakes.ts): viewing (offers answered one at a time, tracks matched, quality, retries,
// reconnects) and publishing (simulcast and its fallback, refusals, mute and camera, screen,
// leaving).
import { afterEach, describe, expect, it, vi } from "vitest";
import { RequestError } from "./connection";
import { ANA_CAMERA, ANA_MIC, type FakePeer, flush, nodeOffer, ROOM, setup } from "./stageFakes";

afterEach(() => {
  vi.useRealTimers();
});

describe("viewing the stage", () => {
  it("views from the first join, answers the offer and matches each track to the stage's", async () => {
    const s = setup();
    await s.join();
    expect(s.sent("media_view")).toEqual([{ type: "media_view", room: ROOM, quality: "auto" }]);
    expect(s.sent("media_answer")).toEqual([{ type: "media_answer", room: ROOM, sdp: expect.any(String) }]);
    const viewer = s.session.viewer;
    expect([...viewer.received.value.keys()]).toEqual(["1-0", "1-1"]);
    expect(viewer.received.value.get("1-0")?.kind).toBe("video");
    expect(s.session.part.tracks.value).toEqual([ANA_CAMERA, ANA_MIC]);
    expect(viewer.phase.value).toBe("connecting");
    s.peers[0]?.become("connected");
    expect(viewer.phase.value).toBe("connected");
    s.session.close();
  });

  it("answers the node's later offers one at a time, in order, and drops stopped tracks", async () => {
    const s = setup();
    await s.join();
    s.handler.mediaOffer?.(nodeOffer("second", [{ mid: "1", kind: "video", track: "1-0", stopped: true }]));
    s.handler.mediaOffer?.(nodeOffer("third", [{ mid: "3", kind: "video", track: "3-0" }]));
    await flush();
    expect(s.log).toEqual([
      "remote v=0 view",
      "answer",
      "remote v=0 second",
      "answer",
      "remote v=0 third",
      "answer",
    ]);
    expect([...s.session.viewer.received.value.keys()]).toEqual(["3-0"]);
    s.session.close();
  });

  it("switches quality without viewing again, and remembers the choice", async () => {
    const s = setup();
    await s.join();
    await s.session.viewer.setQuality("audio_only");
    expect(s.sent("media_quality")).toEqual([{ type: "media_quality", room: ROOM, quality: "audio_only" }]);
    expect(s.sent("media_view")).toHaveLength(1);
    expect(s.storage.getItem("plenary.stage.quality")).toBe("audio_only");
    s.session.close();
    // A later visit asks for its last choice from the start.
    const next = setup({ stored: { "plenary.stage.quality": "low" } });
    await next.join();
    expect(next.sent("media_view")).toEqual([{ type: "media_view", room: ROOM, quality: "low" }]);
    next.session.close();
  });

  it("views again after the WebSocket reconnects, and not after a rejoin on the same connection", async () => {
    const s = setup();
    await s.join();
    s.peers[0]?.become("connected");
    await s.rejoin();
    expect(s.sent("media_view")).toHaveLength(1);
    s.ids.connection = "c2";
    await s.rejoin();
    expect(s.sent("media_view")).toHaveLength(2);
    expect(s.peers[0]?.connectionState).toBe("closed");
    expect(s.session.viewer.phase.value).toBe("reconnecting");
    s.peers[1]?.become("connected");
    expect(s.session.viewer.phase.value).toBe("connected");
    s.session.close();
  });

  it("retries a view the node still holds (409) after a pause, and says when the stage is full (503)", async () => {
    vi.useFakeTimers();
    const s = setup();
    s.refuse((body) => (body.type === "media_view" ? new RequestError(409, "peer exists already") : null));
    await s.join();
    expect(s.session.viewer.phase.value).toBe("reconnecting");
    s.refuse((body) => (body.type === "media_view" ? new RequestError(503, "the stage is full") : null));
    await vi.advanceTimersByTimeAsync(1_000);
    await flush();
    expect(s.sent("media_view")).toHaveLength(2);
    expect(s.session.viewer.problem.value).toEqual({ kind: "full", message: "the stage is full" });
    expect(s.session.viewer.phase.value).toBe("idle");
    s.session.close();
  });

  it("opens the view again when its connection fails", async () => {
    vi.useFakeTimers();
    const s = setup();
    await s.join();
    s.peers[0]?.become("failed");
    expect(s.session.viewer.phase.value).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(1_000);
    await flush();
    expect(s.sent("media_view")).toHaveLength(2);
    s.session.viewer.retry();
    await flush();
    expect(s.sent("media_view")).toHaveLength(3);
    s.session.close();
  });
});

describe("going on stage", () => {
  /** The publisher's peer connection (the viewer's is the first). */
  const publisherPeer = (s: ReturnType<typeof setup>) => s.peers[1] as FakePeer;

  it("sends the microphone and the camera in three layers, naming each line's source", async () => {
    const s = setup();
    await s.join();
    await s.session.publisher.goOnStage();
    expect(s.captured[0]).toEqual({ audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 } } });
    const peer = publisherPeer(s);
    const camera = peer.transceivers[1];
    expect(camera?.init?.sendEncodings?.map((e) => e.rid)).toEqual(["l", "m", "h"]);
    expect(peer.transceivers.map((t) => t.direction)).toEqual(["sendonly", "sendonly"]);
    expect(s.sent("media_publish")).toEqual([
      {
        type: "media_publish",
        room: ROOM,
        sdp: "offer 1",
        tracks: [
          { mid: "0", source: "microphone" },
          { mid: "1", source: "camera" },
        ],
      },
    ]);
    expect(peer.remoteDescription).toEqual({ type: "answer", sdp: "published" });
    const publisher = s.session.publisher;
    expect([publisher.onStage.value, publisher.microphone.value, publisher.camera.value]).toEqual([
      true,
      "on",
      "on",
    ]);
    peer.become("connected");
    expect(publisher.phase.value).toBe("connected");
    s.session.close();
  });

  it("offers fewer layers when the browser refuses three", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const s = setup({ maxEncodings: 2 });
    await s.join();
    await s.session.publisher.goOnStage();
    expect(publisherPeer(s).transceivers[1]?.init?.sendEncodings?.map((e) => e.rid)).toEqual(["l", "h"]);
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
    s.session.close();
  });

  it("a refusal from the node takes the speaker off the stage and says why", async () => {
    const s = setup();
    await s.join();
    s.refuse((body) =>
      body.type === "media_publish"
        ? new RequestError(403, "only the session's speakers and moderators publish")
        : null,
    );
    await s.session.publisher.goOnStage();
    const publisher = s.session.publisher;
    expect(publisher.refusal.value?.kind).toBe("forbidden");
    expect(publisher.onStage.value).toBe(false);
    expect(publisherPeer(s).connectionState).toBe("closed");
    expect(publisherPeer(s).transceivers.every((t) => t.sender.track?.stopped)).toBe(true);
    s.session.close();
  });

  it("says a refused camera and microphone, and publishes nothing", async () => {
    const s = setup();
    await s.join();
    s.failCapture(Object.assign(new Error("Permission denied"), { name: "NotAllowedError" }));
    await s.session.publisher.goOnStage();
    expect(s.session.publisher.problem.value?.kind).toBe("denied");
    expect(s.session.publisher.onStage.value).toBe(false);
    expect(s.sent("media_publish")).toEqual([]);
    s.session.close();
  });

  it("mutes in place, and turns the camera off and on with a new offer each time", async () => {
    const s = setup();
    await s.join();
    const publisher = s.session.publisher;
    await publisher.goOnStage();
    const peer = publisherPeer(s);
    publisher.toggleMicrophone();
    expect(publisher.microphone.value).toBe("off");
    expect(peer.transceivers[0]?.sender.track?.enabled).toBe(false);
    expect(s.sent("media_publish")).toHaveLength(1);

    const camera = peer.transceivers[1]?.sender.track;
    await publisher.toggleCamera();
    expect(publisher.camera.value).toBe("off");
    expect(camera?.stopped).toBe(true);
    expect(peer.transceivers[1]?.direction).toBe("inactive");
    expect(s.sent("media_publish")).toHaveLength(2);

    await publisher.toggleCamera();
    expect(publisher.camera.value).toBe("on");
    expect(peer.transceivers[2]?.init?.sendEncodings).toHaveLength(3);
    const last = s.sent("media_publish").at(-1);
    expect(last?.type === "media_publish" && last.tracks).toContainEqual({ mid: "2", source: "camera" });
    s.session.close();
  });

  it("shares a screen on a line of its own, and stops", async () => {
    const s = setup();
    await s.join();
    const publisher = s.session.publisher;
    await publisher.goOnStage();
    await publisher.shareScreen();
    expect(publisher.sharing.value).toBe(true);
    const shared = s.sent("media_publish").at(-1);
    expect(shared?.type === "media_publish" && shared.tracks).toContainEqual({ mid: "2", source: "screen" });
    await publisher.stopSharing();
    expect(publisher.sharing.value).toBe(false);
    expect(publisherPeer(s).transceivers[2]?.direction).toBe("inactive");
    expect(s.sent("media_publish")).toHaveLength(3);
    s.session.close();
  });

  it("leaving sends media_stop, stops the devices and views the stage again", async () => {
    const s = setup();
    await s.join();
    const publisher = s.session.publisher;
    await publisher.goOnStage();
    const tracks = publisherPeer(s).transceivers.map((t) => t.sender.track);
    await publisher.leave();
    await flush();
    expect(s.sent("media_stop")).toEqual([{ type: "media_stop", room: ROOM }]);
    expect(tracks.every((t) => t?.stopped)).toBe(true);
    expect(publisher.onStage.value).toBe(false);
    expect(s.sent("media_view")).toHaveLength(2);
    s.session.close();
  });

  it("publishes the same tracks again after the WebSocket reconnects", async () => {
    const s = setup();
    await s.join();
    const publisher = s.session.publisher;
    await publisher.goOnStage();
    const microphone = publisherPeer(s).transceivers[0]?.sender.track;
    publisherPeer(s).become("connected");
    s.ids.connection = "c2";
    await s.rejoin();
    expect(publisher.phase.value).toBe("reconnecting");
    // The viewer's and the publisher's new connections.
    expect(s.peers).toHaveLength(4);
    const republished = s.peers.find(
      (p, i) => i > 1 && p.transceivers.some((t) => t.direction === "sendonly"),
    );
    expect(republished?.transceivers[0]?.sender.track).toBe(microphone);
    expect(microphone?.stopped).toBe(false);
    expect(s.sent("media_publish")).toHaveLength(2);
    expect(s.sent("media_stop")).toEqual([]);
    s.session.close();
  });
});
