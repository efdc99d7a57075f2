import type { ParticipantInfo, TrackSetting } from "../protocol";

/** A remote video tile on screen, at its CSS size. */
export interface ShownTile {
  participantId: number;
  kind: "camera" | "screen";
  width: number;
  height: number;
  /** The speaker view's main tile. */
  main?: boolean;
}

/**
 * Who the server serves first when this client's bandwidth does not fit every video: screen
 * shares and the speaker view's main tile, then whoever speaks now, then the rest (the field is
 * left out at 0, its default).
 */
export function tilePriority(tile: ShownTile, speaking: boolean): number {
  if (tile.kind === "screen" || tile.main) return 2;
  return speaking ? 1 : 0;
}

/**
 * What to ask the server for each remote video track (`track_settings`): the tiles on screen at
 * their rendered size in device pixels (the server sends the simulcast layer that covers it),
 * every other video track disabled (off the current page, or the tab is hidden), so a video
 * nobody sees costs nothing. Audio is not listed: it always flows.
 */
export function planTrackSettings(
  participants: Record<number, ParticipantInfo>,
  shown: ShownTile[],
  dpr: number,
  hidden: boolean,
  speaking: ReadonlySet<number> = new Set(),
): TrackSetting[] {
  const out: TrackSetting[] = [];
  for (const p of Object.values(participants)) {
    for (const t of p.tracks) {
      if (t.kind !== "video") continue;
      const kind = t.source === "screen_share" ? "screen" : "camera";
      const tile = hidden ? undefined : shown.find((s) => s.participantId === p.id && s.kind === kind);
      if (!tile) {
        out.push({ track_id: t.track_id, enabled: false });
        continue;
      }
      // Down to a multiple of 8, so a tile resized by a pixel sends nothing new (and a 180-pixel
      // tile still takes the 180p layer rather than the next larger one).
      const px = (v: number) => Math.max(8, Math.floor((v * dpr) / 8) * 8);
      const priority = tilePriority(tile, speaking.has(p.id));
      out.push({
        track_id: t.track_id,
        enabled: true,
        max_width: px(tile.width),
        max_height: px(tile.height),
        ...(priority > 0 ? { priority } : {}),
      });
    }
  }
  return out;
}

/** The entries of `next` that differ from what was last sent (`sent`, by track id). */
export function changedSettings(sent: ReadonlyMap<string, TrackSetting>, next: TrackSetting[]): TrackSetting[] {
  return next.filter((t) => {
    const s = sent.get(t.track_id);
    return (
      !s ||
      s.enabled !== t.enabled ||
      s.max_width !== t.max_width ||
      s.max_height !== t.max_height ||
      (s.priority ?? 0) !== (t.priority ?? 0)
    );
  });
}
