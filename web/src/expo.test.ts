import { describe, expect, it } from "vitest";
import type { Booth } from "./api";
import type { Connection, RoomHandler } from "./connection";
import { EXPO_ROOM, filterBooths, Hall, hallOptions, hallTotals, sortBooths } from "./expo";

const booth = (id: string, extra: Partial<Booth> = {}): Booth => ({
  id,
  organisation: id.toUpperCase(),
  description: "",
  links: [],
  tags: [],
  staff: [],
  ...extra,
});

const BOOTHS = [
  booth("itu", {
    organisation: "ITU",
    description: "Connecting the world",
    track: "main",
    tags: ["C2", "SDG9"],
  }),
  booth("unesco", { organisation: "UNESCO", description: "Media literacy", track: "ethics", tags: ["C10"] }),
  booth("giga", { organisation: "Giga", description: "School connectivity", tags: ["C2"] }),
];

describe("filterBooths", () => {
  it("filters by track, tag and every word", () => {
    const all = { track: "", tag: "", query: "" };
    expect(filterBooths(BOOTHS, all).map((b) => b.id)).toEqual(["itu", "unesco", "giga"]);
    expect(filterBooths(BOOTHS, { ...all, track: "main" }).map((b) => b.id)).toEqual(["itu"]);
    expect(filterBooths(BOOTHS, { ...all, tag: "C2" }).map((b) => b.id)).toEqual(["itu", "giga"]);
    expect(filterBooths(BOOTHS, { ...all, query: "connect" }).map((b) => b.id)).toEqual(["itu", "giga"]);
    expect(filterBooths(BOOTHS, { ...all, query: "school CONNECTIVITY" }).map((b) => b.id)).toEqual(["giga"]);
    expect(filterBooths(BOOTHS, { ...all, query: "sdg9" }).map((b) => b.id)).toEqual(["itu"]);
    expect(filterBooths(BOOTHS, { track: "main", tag: "C10", query: "" })).toEqual([]);
  });
});

describe("hallOptions and sortBooths", () => {
  it("lists the tracks and tags in use, tags in natural order", () => {
    expect(hallOptions(BOOTHS)).toEqual({ tracks: ["ethics", "main"], tags: ["C2", "C10", "SDG9"] });
  });

  it("sorts booths by organisation", () => {
    expect(sortBooths(BOOTHS).map((b) => b.id)).toEqual(["giga", "itu", "unesco"]);
  });
});

describe("hallTotals", () => {
  it("adds up the counts of the booths shown", () => {
    const counts = new Map([
      ["itu", { booth: "itu", visitors: 14, staff_on_duty: 2 }],
      ["giga", { booth: "giga", visitors: 3, staff_on_duty: 0 }],
    ]);
    expect(hallTotals(BOOTHS, counts)).toEqual({ visitors: 17, staff: 2 });
    expect(hallTotals([BOOTHS[1] as Booth], counts)).toEqual({ visitors: 0, staff: 0 });
  });
});

describe("Hall", () => {
  it("keeps the latest summary by booth and leaves when disposed", () => {
    const handlers = new Map<string, RoomHandler>();
    const connection = {
      join(room: string, handler: RoomHandler) {
        handlers.set(room, handler);
        return () => handlers.delete(room);
      },
    } as unknown as Connection;
    const hall = new Hall(connection);
    expect(hall.counts.value).toBeNull();
    handlers.get(EXPO_ROOM)?.booths?.([{ booth: "itu", visitors: 14, staff_on_duty: 2 }]);
    expect(hall.counts.value?.get("itu")?.visitors).toBe(14);
    hall.dispose();
    expect(handlers.has(EXPO_ROOM)).toBe(false);
  });
});
