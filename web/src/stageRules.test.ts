import { describe, expect, it } from "vitest";
import type { StageTrack } from "./proto.gen";
import {
  CAMERA_ENCODINGS,
  loadQuality,
  matchReceived,
  midStreams,
  NO_SPEAKER,
  nextActiveSpeaker,
  publishedTracks,
  SPEAKER_HOLD_MS,
  type SpeakerChoice,
  saveQuality,
  speakersOf,
  stageLayout,
  stagePhaseOf,
  stageRefusal,
} from "./stageRules";

const track = (id: string, user: string, source: StageTrack["source"]): StageTrack => ({
  id,
  user,
  name: user.toUpperCase(),
  source,
});

const ANA_CAMERA = track("1-0", "ana", "camera");
const ANA_MIC = track("1-1", "ana", "microphone");
const BEN_CAMERA = track("3-0", "ben", "camera");
const BEN_MIC = track("3-1", "ben", "microphone");
const BEN_SCREEN = track("3-2", "ben", "screen");
const ZOE_MIC = track("5-0", "zoe", "microphone");

describe("stageLayout", () => {
  it("has nothing to show on an empty stage", () => {
    expect(stageLayout([], null)).toEqual({ main: null, others: [] });
    expect(stageLayout([], "ana")).toEqual({ main: null, others: [] });
  });

  it("shows a screen share large, whoever speaks", () => {
    const layout = stageLayout([ANA_CAMERA, ANA_MIC, BEN_CAMERA, BEN_MIC, BEN_SCREEN], "ana");
    expect(layout.main?.video?.id).toBe("3-2");
    expect(layout.others.map((t) => t.key)).toEqual(["1-0", "3-0"]);
  });

  it("without a screen share, shows the active speaker's camera large", () => {
    const tracks = [ANA_CAMERA, ANA_MIC, BEN_CAMERA, BEN_MIC];
    expect(stageLayout(tracks, "ben").main?.video?.id).toBe("3-0");
    expect(stageLayout(tracks, "ben").others.map((t) => t.key)).toEqual(["1-0"]);
    expect(stageLayout(tracks, "ana").main?.video?.id).toBe("1-0");
  });

  it("before anyone spoke, or when the speaker has no camera, shows the first camera", () => {
    const tracks = [ANA_MIC, BEN_CAMERA, BEN_MIC, ZOE_MIC];
    expect(stageLayout(tracks, null).main?.video?.id).toBe("3-0");
    expect(stageLayout(tracks, "zoe").main?.video?.id).toBe("3-0");
  });

  it("gives a speaker without video a tile of their own, named", () => {
    const layout = stageLayout([ANA_MIC, BEN_CAMERA, BEN_MIC, ZOE_MIC], null);
    expect(layout.others).toEqual([
      { key: "user:ana", user: "ana", name: "ANA", video: null },
      { key: "user:zoe", user: "zoe", name: "ZOE", video: null },
    ]);
  });

  it("with microphones only, shows the active speaker large, else the first", () => {
    expect(stageLayout([ANA_MIC, ZOE_MIC], "zoe").main?.key).toBe("user:zoe");
    expect(stageLayout([ANA_MIC, ZOE_MIC], null).main?.key).toBe("user:ana");
  });

  it("lists each speaker once, in the stage's order", () => {
    expect(speakersOf([ANA_CAMERA, BEN_SCREEN, ANA_MIC, BEN_MIC])).toEqual([
      { user: "ana", name: "ANA" },
      { user: "ben", name: "BEN" },
    ]);
  });
});

/** An offer as the node writes it: one line per track, each with its msid. */
function offer(lines: Array<{ mid: string; kind: string; stream: string; track: string; extra?: string }>) {
  return [
    "v=0",
    "o=- 1 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0 1 2",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "a=mid:2",
    ...lines.flatMap((l) => [
      l.extra?.startsWith("port0")
        ? `m=${l.kind} 0 UDP/TLS/RTP/SAVPF 96`
        : `m=${l.kind} 9 UDP/TLS/RTP/SAVPF 96`,
      `a=mid:${l.mid}`,
      `a=msid:${l.stream} ${l.track}`,
      l.extra === "inactive" ? "a=inactive" : "a=sendonly",
    ]),
    "",
  ].join("\r\n");
}

describe("which received track is which stage track", () => {
  const sdp = offer([
    { mid: "0", kind: "video", stream: "auth0|ana", track: "1-0" },
    { mid: "1", kind: "audio", stream: "auth0|ana", track: "1-1" },
    { mid: "3", kind: "video", stream: "ben", track: "3-0", extra: "port0" },
    { mid: "4", kind: "video", stream: "ben", track: "3-2", extra: "inactive" },
  ]);

  it("reads each line's msid by mid, and whether the line carries media", () => {
    const lines = midStreams(sdp);
    expect(lines.get("0")).toEqual({ stream: "auth0|ana", track: "1-0", active: true });
    expect(lines.get("1")).toEqual({ stream: "auth0|ana", track: "1-1", active: true });
    expect(lines.get("3")?.active).toBe(false);
    expect(lines.get("4")?.active).toBe(false);
    // The data channel names no stream.
    expect(lines.has("2")).toBe(false);
  });

  it("matches live lines to stage tracks and leaves out stopped or unnamed ones", () => {
    const matched = matchReceived(
      [
        { mid: "0", stopped: false, track: "video A" },
        { mid: "1", stopped: false, track: "audio A" },
        { mid: "2", stopped: false, track: "channel" },
        { mid: "3", stopped: false, track: "video B" },
        { mid: "4", stopped: false, track: "screen B" },
        { mid: "5", stopped: false, track: "unknown" },
        { mid: null, stopped: false, track: "no mid yet" },
      ],
      sdp,
    );
    expect([...matched]).toEqual([
      ["1-0", "video A"],
      ["1-1", "audio A"],
    ]);
    expect(matchReceived([{ mid: "0", stopped: true, track: "video A" }], sdp).size).toBe(0);
  });

  it("reads offers with bare newlines too", () => {
    expect(midStreams(sdp.replaceAll("\r\n", "\n")).get("0")?.track).toBe("1-0");
  });
});

describe("the active speaker", () => {
  const levels = (entries: Record<string, number>) => new Map(Object.entries(entries));

  it("is the first to speak, and stays through silence", () => {
    let choice: SpeakerChoice = NO_SPEAKER;
    choice = nextActiveSpeaker(choice, levels({ ana: 0, ben: 0.001 }), 0);
    expect(choice.user).toBeNull();
    choice = nextActiveSpeaker(choice, levels({ ana: 0.3, ben: 0.01 }), 100);
    expect(choice.user).toBe("ana");
    choice = nextActiveSpeaker(choice, levels({ ana: 0, ben: 0 }), 5_000);
    expect(choice.user).toBe("ana");
  });

  it("moves to another speaker only once they were the loudest for the hold time", () => {
    let choice: SpeakerChoice = { user: "ana", candidate: null, since: 0 };
    choice = nextActiveSpeaker(choice, levels({ ana: 0.05, ben: 0.4 }), 1_000);
    expect(choice.user).toBe("ana");
    // A cough from Ana in between starts Ben's hold again.
    choice = nextActiveSpeaker(choice, levels({ ana: 0.5, ben: 0.4 }), 1_500);
    choice = nextActiveSpeaker(choice, levels({ ana: 0.05, ben: 0.4 }), 2_000);
    choice = nextActiveSpeaker(choice, levels({ ana: 0.05, ben: 0.4 }), 2_000 + SPEAKER_HOLD_MS - 1);
    expect(choice.user).toBe("ana");
    choice = nextActiveSpeaker(choice, levels({ ana: 0.05, ben: 0.4 }), 2_000 + SPEAKER_HOLD_MS);
    expect(choice.user).toBe("ben");
  });
});

describe("the connection in words' terms", () => {
  it("connects, then reconnects after an interruption", () => {
    expect(stagePhaseOf(null, false, false)).toBe("idle");
    expect(stagePhaseOf("new", false, false)).toBe("connecting");
    expect(stagePhaseOf("connecting", false, false)).toBe("connecting");
    expect(stagePhaseOf("connected", false, false)).toBe("connected");
    expect(stagePhaseOf("disconnected", true, false)).toBe("reconnecting");
    expect(stagePhaseOf("failed", true, false)).toBe("failed");
  });

  it("says reconnecting while a new connection replaces a lost one", () => {
    expect(stagePhaseOf(null, true, true)).toBe("reconnecting");
    expect(stagePhaseOf("new", false, true)).toBe("reconnecting");
    expect(stagePhaseOf("closed", true, false)).toBe("idle");
  });
});

describe("the quality choice", () => {
  function memoryStorage(): Storage {
    const items = new Map<string, string>();
    return {
      getItem: (k: string) => items.get(k) ?? null,
      setItem: (k: string, v: string) => void items.set(k, v),
      removeItem: (k: string) => void items.delete(k),
      clear: () => items.clear(),
      key: () => null,
      get length() {
        return items.size;
      },
    };
  }

  it("is auto until chosen, then remembered", () => {
    const storage = memoryStorage();
    expect(loadQuality(storage)).toBe("auto");
    expect(loadQuality(undefined)).toBe("auto");
    saveQuality(storage, "audio_only");
    expect(loadQuality(storage)).toBe("audio_only");
    saveQuality(storage, "auto");
    expect(storage.length).toBe(0);
  });

  it("ignores what it does not know", () => {
    const storage = memoryStorage();
    storage.setItem("plenary.stage.quality", "ultra");
    expect(loadQuality(storage)).toBe("auto");
  });
});

describe("publishing", () => {
  it("offers the camera in three layers lowest first, then fewer", () => {
    expect(CAMERA_ENCODINGS.map((e) => e.map((l) => l.rid))).toEqual([["l", "m", "h"], ["l", "h"], []]);
  });

  it("names the source of every line that has a mid", () => {
    expect(
      publishedTracks([
        { mid: "0", source: "microphone" },
        { mid: "1", source: "camera" },
        { mid: null, source: "screen" },
      ]),
    ).toEqual([
      { mid: "0", source: "microphone" },
      { mid: "1", source: "camera" },
    ]);
  });

  it("says what a refusal means", () => {
    expect(stageRefusal(403)).toBe("forbidden");
    expect(stageRefusal(503)).toBe("full");
    expect(stageRefusal(404)).toBe("notWebrtc");
    expect(stageRefusal(409)).toBe("busy");
    expect(stageRefusal(422)).toBe("failed");
  });
});
