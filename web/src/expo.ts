// The exhibition hall: the live counts of every booth from the `expo` room's summaries, and
// the hall's filters (track, topic, words) as plain functions.
import { signal } from "@preact/signals";
import type { Booth } from "./api";
import type { Connection, RequestError } from "./connection";
import type { BoothCounts } from "./proto.gen";

export const EXPO_ROOM = "expo";

export type { BoothCounts };

export interface HallFilter {
  /** A track id, or "" for every track. */
  track: string;
  /** A tag, or "" for every tag. */
  tag: string;
  /** Words that must all appear in the organisation, description or tags. */
  query: string;
}

/** The booths that match `filter`, in the order given. */
export function filterBooths(booths: readonly Booth[], filter: HallFilter): Booth[] {
  const words = filter.query.toLowerCase().split(/\s+/).filter(Boolean);
  return booths.filter(
    (b) =>
      (!filter.track || b.track === filter.track) &&
      (!filter.tag || b.tags.includes(filter.tag)) &&
      words.every(
        (w) =>
          b.organisation.toLowerCase().includes(w) ||
          b.description.toLowerCase().includes(w) ||
          b.tags.some((x) => x.toLowerCase().includes(w)),
      ),
  );
}

/** The tracks and tags the booths use, for the filters: tags in natural order. */
export function hallOptions(booths: readonly Booth[]): { tracks: string[]; tags: string[] } {
  const tracks = new Set<string>();
  const tags = new Set<string>();
  for (const b of booths) {
    if (b.track) tracks.add(b.track);
    for (const x of b.tags) tags.add(x);
  }
  const natural = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
  return { tracks: [...tracks].sort(natural), tags: [...tags].sort(natural) };
}

/** The booths sorted by organisation name. */
export function sortBooths(booths: readonly Booth[]): Booth[] {
  return [...booths].sort((a, b) => a.organisation.localeCompare(b.organisation) || a.id.localeCompare(b.id));
}

/** Visitors and staff on duty over `booths`, from `counts` (booths without counts add nothing). */
export function hallTotals(
  booths: readonly Booth[],
  counts: ReadonlyMap<string, BoothCounts>,
): { visitors: number; staff: number } {
  let visitors = 0;
  let staff = 0;
  for (const b of booths) {
    const c = counts.get(b.id);
    visitors += c?.visitors ?? 0;
    staff += c?.staff_on_duty ?? 0;
  }
  return { visitors, staff };
}

/** This tab in the hall room, for its counts. */
export class Hall {
  /** By booth id; null until the first summary. */
  readonly counts = signal<ReadonlyMap<string, BoothCounts> | null>(null);
  readonly joinError = signal<RequestError | null>(null);
  private readonly leave: () => void;

  constructor(connection: Connection) {
    this.leave = connection.join(EXPO_ROOM, {
      snapshot: () => {
        this.joinError.value = null;
      },
      event: () => undefined,
      booths: (booths) => {
        this.counts.value = new Map(booths.map((b) => [b.booth, b]));
      },
      failed: (e) => {
        this.joinError.value = e;
      },
    });
  }

  dispose(): void {
    this.leave();
  }
}
