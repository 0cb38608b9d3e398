/**
 * Exposure episodes over one image stream: a maximal run of consecutive digests that carry a vulnerability, from
 * the first digest with it to the first later digest without it. A later run of the same vulnerability is a new
 * episode flagged `regression`; a run still open at the last observation is censored there.
 */

/** One digest of a stream, at the time it became available, with the keys (vulnerability × package) it carries. */
export interface StreamObservation {
  id: string;
  at: number;
  keys: ReadonlySet<string>;
}

export interface Episode {
  key: string;
  startedAt: number;
  startedIn: string;
  /** The first later observation without the key; `null` while still open at the end (censored). */
  closedAt: number | null;
  closedIn: string | null;
  /** True when an earlier episode of the same key had closed: the vulnerability came back. */
  regression: boolean;
}

/** Episodes of every key over `observations` (sorted here by time, then id, so the order of input does not matter). */
export function exposureEpisodes(observations: readonly StreamObservation[]): {
  episodes: Episode[];
  lastAt: number | null;
} {
  const ordered = observations.slice().sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const open = new Map<string, Episode>();
  const closedBefore = new Set<string>();
  const episodes: Episode[] = [];
  for (const observation of ordered) {
    for (const [key, episode] of open) {
      if (observation.keys.has(key)) continue;
      episode.closedAt = observation.at;
      episode.closedIn = observation.id;
      open.delete(key);
      closedBefore.add(key);
    }
    for (const key of observation.keys) {
      if (open.has(key)) continue;
      const episode: Episode = {
        key,
        startedAt: observation.at,
        startedIn: observation.id,
        closedAt: null,
        closedIn: null,
        regression: closedBefore.has(key),
      };
      open.set(key, episode);
      episodes.push(episode);
    }
  }
  return { episodes, lastAt: ordered.length === 0 ? null : (ordered[ordered.length - 1]?.at ?? null) };
}
