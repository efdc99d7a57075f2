import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { computeGridLayout, paginate, MAX_TILES_PER_PAGE } from "../lib/grid";
import { useMeeting, useMeetingClient } from "../hooks/useMeeting";
import { planTrackSettings, type ShownTile } from "../lib/trackSettings";
import { useActiveSpeaker, useAllRemoteMedia, useWebRTC } from "../hooks/useWebRTC";
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

/**
 * Tells the server what this page shows of remote videos (`track_settings`), a moment after it
 * changes: tiles on the current page or in the filmstrip at their size, every other video
 * disabled, and everything disabled while the tab is hidden.
 */
function useTrackSettings(shown: ShownTile[]) {
  const client = useMeetingClient();
  const participants = useMeeting((s) => s.participants);
  const phase = useMeeting((s) => s.phase);
  const [hidden, setHidden] = useState(() => typeof document !== "undefined" && document.visibilityState === "hidden");
  useEffect(() => {
    const on = () => setHidden(document.visibilityState === "hidden");
    document.addEventListener("visibilitychange", on);
    return () => document.removeEventListener("visibilitychange", on);
  }, []);
  const shownKey = JSON.stringify(shown);
  // Only who speaks matters here, not how loud: a stable key keeps the effect quiet.
  const speakingKey = useSyncExternalStore(client.levels.subscribe, () =>
    Object.keys(client.levels.getSnapshot().speaking)
      .filter((k) => k !== "self")
      .sort()
      .join(","),
  );
  useEffect(() => {
    const timer = setTimeout(() => {
      const list = JSON.parse(shownKey) as ShownTile[];
      const speaking = new Set(speakingKey ? speakingKey.split(",").map(Number) : []);
      client.setTrackSettings(planTrackSettings(participants, list, window.devicePixelRatio || 1, hidden, speaking));
    }, 250);
    return () => clearTimeout(timer);
  }, [client, participants, shownKey, hidden, phase, speakingKey]);
}

function useElementSize<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver((entries) => {
      const r = entries[0].contentRect;
      setSize((s) => (Math.abs(s.width - r.width) < 1 && Math.abs(s.height - r.height) < 1 ? s : { width: r.width, height: r.height }));
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return { ref, size };
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

export function VideoGrid({ view }: { view: ViewMode }) {
  const tiles = useTiles();
  return view === "speaker" && tiles.length > 1 ? <SpeakerView tiles={tiles} /> : <GridView tiles={tiles} />;
}

function GridView({ tiles }: { tiles: TileDesc[] }) {
  const { ref, size } = useElementSize<HTMLDivElement>();
  const [page, setPage] = useState(0);
  const narrow = size.width > 0 && size.width < 600;
  const layout = computeGridLayout(tiles.length, size.width || 1280, size.height || 720, narrow ? 4 / 3 : 16 / 9, MAX_TILES_PER_PAGE);
  const { items, page: current, pages } = paginate(tiles, page, layout.pageSize);
  useTrackSettings(remoteShown(items, layout.tileWidth, layout.tileHeight));
  return (
    <section className="grid-wrap" aria-label="Participants' video">
      <div
        ref={ref}
        className="video-grid"
        style={{
          gridTemplateColumns: `repeat(${layout.columns}, ${Math.floor(layout.tileWidth)}px)`,
          gridAutoRows: `${Math.floor(layout.tileHeight)}px`,
        }}
      >
        {items.map((t) => (
          <VideoTile key={t.key} tile={t} />
        ))}
      </div>
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

function SpeakerView({ tiles }: { tiles: TileDesc[] }) {
  const active = useActiveSpeaker();
  const main =
    tiles.find((t) => t.kind === "screen") ??
    tiles.find((t) => t.kind === "camera" && t.participantId === active) ??
    tiles.find((t) => t.participantId !== "self") ??
    tiles[0];
  const rest = tiles.filter((t) => t !== main);
  const { ref, size } = useElementSize<HTMLDivElement>();
  useTrackSettings([
    ...remoteShown([main], size.width || 1280, size.height || 720).map((t) => ({ ...t, main: true })),
    ...remoteShown(rest, THUMB_WIDTH, (THUMB_WIDTH * 9) / 16),
  ]);
  return (
    <section className="speaker-view" aria-label="Speaker view">
      <div className="speaker-main" ref={ref}>
        <VideoTile tile={main} />
      </div>
      <div className="filmstrip" aria-label="Other participants">
        {rest.map((t) => (
          <div className="filmstrip-item" key={t.key}>
            <VideoTile tile={t} />
          </div>
        ))}
      </div>
    </section>
  );
}
