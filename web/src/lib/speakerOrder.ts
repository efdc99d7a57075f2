/**
 * Keeps whoever speaks on the grid's first page, as Meet does: a speaker on a later page takes
 * the place of the first-page tile that spoke least recently (never, first; on a tie the last
 * one). Everyone else keeps their place, so the grid does not reshuffle while the speakers are
 * already in view, and tiles that must stay (screens, our own camera) are never moved out.
 */
export interface SpeakerOrder {
  /** Tile keys in the order shown. */
  order: string[];
  /** When each key last spoke, on `clock`. */
  lastSpoke: Record<string, number>;
  clock: number;
}

export const EMPTY_ORDER: SpeakerOrder = { order: [], lastSpoke: {}, clock: 0 };

/**
 * The next order for tiles `keys` (in their natural order) while `speaking` speak (keys,
 * loudest first), with `firstPage` tiles on the first page. `movable`: whether a tile may leave
 * the first page for a speaker.
 */
export function arrange(
  prev: SpeakerOrder,
  keys: readonly string[],
  speaking: readonly string[],
  firstPage: number,
  movable: (key: string) => boolean = () => true,
): SpeakerOrder {
  const present = new Set(keys);
  const order = prev.order.filter((k) => present.has(k));
  const placed = new Set(order);
  for (const k of keys) if (!placed.has(k)) order.push(k);
  const clock = prev.clock + 1;
  const lastSpoke = { ...prev.lastSpoke };
  const now = speaking.filter((k) => present.has(k));
  for (const k of now) lastSpoke[k] = clock;
  const speakingNow = new Set(now);
  for (const s of now.slice(0, firstPage)) {
    const at = order.indexOf(s);
    if (at < firstPage) continue;
    let swap = -1;
    for (let i = 0; i < Math.min(firstPage, order.length); i++) {
      const k = order[i];
      if (speakingNow.has(k) || !movable(k)) continue;
      if (swap < 0 || (lastSpoke[k] ?? -1) <= (lastSpoke[order[swap]] ?? -1)) swap = i;
    }
    if (swap < 0) break; // the first page holds only speakers and fixed tiles
    [order[swap], order[at]] = [order[at], order[swap]];
  }
  for (const k of Object.keys(lastSpoke)) if (!present.has(k)) delete lastSpoke[k];
  return { order, lastSpoke, clock };
}
