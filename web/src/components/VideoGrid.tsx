import { useMemo, useState } from "react";
import { computeGridLayout, paginate, MAX_TILES_PER_PAGE } from "../lib/grid";
import { useMeeting } from "../hooks/useMeeting";
import type { ShownTile } from "../lib/trackSettings";
import { useElementSize, useTrackSettings, useVisibleKeys } from "../hooks/useTrackSettings";
import { useActiveSpeaker, useAllRemoteMedia, useSpeakingKeys, useWebRTC } from "../hooks/useWebRTC";
import { arrange, EMPTY_ORDER, type SpeakerOrder } from "../lib/speakerOrder";
import { AlonePanel } from "./AlonePanel";
import { Icon } from "./Icon";
import { VideoTile, type TileDesc } from "./VideoTile";

export type ViewMode = "grid" | "speaker";

/** Filmstrip thumbnails' CSS width (`.filmstrip-item`), 16:9. */
const THUMB_WIDTH = 180;

/** Remote tiles of `tiles`, each rendered at width x height CSS pixels. */
function remoteShown(tiles: TileDesc[], width: number, height: number): ShownTile[] {
  const out: ShownTile[] = [];
  for (const t of tiles) if (t.participantId !== "self") out.push({ participantId: t.participantId, kind: t.kind, width, height });
  return out;
}

function useTiles(): TileDesc[] {
  const order = useMeeting((s) => s.order);
  const participants = useMeeting((s) => s.participants);
  const remote = useAllRemoteMedia();
  const sharing = useWebRTC((l) => !!l.screenTrack).value;
  return useMemo(() => {
    const tiles: TileDesc[] = [];
    // Screens first: they are what people want to see.
    if (sharing) tiles.push({ key: "self:screen", participantId: "self", kind: "screen" });
    // A screen tile needs both the track and the publisher's word that it is sharing (the flag
    // drops as soon as they stop, before the renegotiation removes the track).
    for (const id of order) {
      if (remote[id]?.screen && participants[id]?.media.screen_sharing) tiles.push({ key: `${id}:screen`, participantId: id, kind: "screen" });
    }
    tiles.push({ key: "self:camera", participantId: "self", kind: "camera" });
    for (const id of order) tiles.push({ key: `${id}:camera`, participantId: id, kind: "camera" });
    return tiles;
  }, [order, participants, remote, sharing]);
}

/** What the video area shows: the grid, the speaker view, or (whenever someone shares a screen) the presentation layout. */
export function VideoGrid({ view }: { view: ViewMode }) {
  const tiles = useTiles();
  const presenting = tiles.some((t) => t.kind === "screen");
  if (presenting) return <SpeakerView tiles={tiles} layout="presentation" />;
  return view === "speaker" && tiles.length > 1 ? <SpeakerView tiles={tiles} layout="speaker" /> : <GridView tiles={tiles} />;
}

/**
 * Everyone on pages of up to 16 tiles, the last row centred. Once someone else is there our
 * own camera moves to a small self-view in the corner, as in Meet and Jitsi.
 */
function GridView({ tiles }: { tiles: TileDesc[] }) {
  const { ref, size } = useElementSize<HTMLDivElement>();
  const [page, setPage] = useState(0);
  const selfTile = tiles.find((t) => t.participantId === "self" && t.kind === "camera");
  const floatSelf = !!selfTile && tiles.length > 1;
  // Memoized: the speaker order below keeps state keyed on this array's identity.
  const natural = useMemo(() => (floatSelf ? tiles.filter((t) => t !== selfTile) : tiles), [floatSelf, tiles, selfTile]);
  const narrow = size.width > 0 && size.width < 600;
  const layout = computeGridLayout(natural.length, size.width || 1280, size.height || 720, narrow ? 4 / 3 : 16 / 9, MAX_TILES_PER_PAGE);
  const gridTiles = useSpeakersFirst(natural, layout.pageSize);
  const { items, page: current, pages } = paginate(gridTiles, page, layout.pageSize);
  useTrackSettings(remoteShown(items, layout.tileWidth, layout.tileHeight));
  return (
    <section className="grid-wrap" aria-label="Participants' video" data-layout="grid">
      <div
        ref={ref}
        className="video-grid"
        style={{ ["--tile-w" as string]: `${Math.floor(layout.tileWidth)}px`, ["--tile-h" as string]: `${Math.floor(layout.tileHeight)}px` }}
      >
        {items.map((t) => (
          <VideoTile key={t.key} tile={t} />
        ))}
      </div>
      <AlonePanel />
      {floatSelf && (
        <div className="self-view" data-testid="self-view">
          <VideoTile tile={selfTile} />
        </div>
      )}
      {pages > 1 && (
        <nav className="pager" aria-label="Video pages">
          <button type="button" className="icon-btn" aria-label="Previous page" disabled={current === 0} onClick={() => setPage(current - 1)}>
            <Icon name="chevronLeft" />
          </button>
          <span aria-live="polite">
            {current + 1} / {pages}
          </span>
          <button type="button" className="icon-btn" aria-label="Next page" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
            <Icon name="chevronRight" />
          </button>
        </nav>
      )}
    </section>
  );
}

/** Remote cameras that speak move onto the first page (screens and our own tile stay put). */
function useSpeakersFirst(tiles: TileDesc[], pageSize: number): TileDesc[] {
  const speaking = useSpeakingKeys();
  // The order depends on the one before (who spoke when): kept as state, recomputed during
  // render when an input changes (React's "information from previous renders" pattern).
  const [memo, setMemo] = useState<{ tiles: TileDesc[]; speaking: string[]; pageSize: number; order: SpeakerOrder } | null>(null);
  let order = memo?.order ?? EMPTY_ORDER;
  if (!memo || memo.tiles !== tiles || memo.speaking !== speaking || memo.pageSize !== pageSize) {
    const kinds = new Map(tiles.map((t) => [t.key, t]));
    const movable = (key: string) => kinds.get(key)?.kind === "camera" && kinds.get(key)?.participantId !== "self";
    const speakers = speaking.map((id) => `${id}:camera`);
    order = arrange(order, tiles.map((t) => t.key), speakers, pageSize, movable);
    setMemo({ tiles, speaking, pageSize, order });
  }
  return useMemo(() => {
    const byKey = new Map(tiles.map((t) => [t.key, t]));
    return order.order.flatMap((k) => byKey.get(k) ?? []);
  }, [tiles, order]);
}

/**
 * One large tile and a filmstrip. In the speaker view the large tile is the active speaker;
 * in the presentation layout it is the shared screen. Thumbnails scrolled out of the
 * filmstrip receive no video.
 */
function SpeakerView({ tiles, layout }: { tiles: TileDesc[]; layout: "speaker" | "presentation" }) {
  const active = useActiveSpeaker();
  const main =
    tiles.find((t) => t.kind === "screen") ??
    tiles.find((t) => t.kind === "camera" && t.participantId === active) ??
    tiles.find((t) => t.participantId !== "self") ??
    tiles[0];
  const rest = tiles.filter((t) => t !== main);
  const { ref, size } = useElementSize<HTMLDivElement>();
  const { ref: stripRef, visible } = useVisibleKeys<HTMLDivElement>(rest.map((t) => t.key).join(","));
  const inStrip = visible ? rest.filter((t) => visible.has(t.key)) : rest;
  useTrackSettings([
    ...remoteShown([main], size.width || 1280, size.height || 720).map((t) => ({ ...t, main: true })),
    ...remoteShown(inStrip, THUMB_WIDTH, (THUMB_WIDTH * 9) / 16),
  ]);
  return (
    <section className={`speaker-view ${layout}`} aria-label={layout === "presentation" ? "Presentation" : "Speaker view"} data-layout={layout}>
      <div className="speaker-main" ref={ref}>
        <VideoTile tile={main} />
        <AlonePanel />
      </div>
      <div className="filmstrip" aria-label="Other participants" ref={stripRef}>
        {rest.map((t) => (
          <div className="filmstrip-item" key={t.key} data-key={t.key}>
            <VideoTile tile={t} />
          </div>
        ))}
      </div>
    </section>
  );
}
