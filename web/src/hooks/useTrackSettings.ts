import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import { useMeeting, useMeetingClient } from "./useMeeting";
import { planTrackSettings, type ShownTile } from "../lib/trackSettings";

/**
 * Tells the server what this page shows of remote videos (`track_settings`), a moment after it
 * changes: tiles on the current page or in the filmstrip at their size, every other video
 * disabled, and everything disabled while the tab is hidden.
 */
export function useTrackSettings(shown: ShownTile[]) {
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

export function useElementSize<T extends HTMLElement>() {
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

/**
 * The `data-key`s of the children of a scrolling container that are in view (for the
 * filmstrip: thumbnails scrolled out of sight need no video). Null until measured, and where
 * IntersectionObserver is missing: then everything counts as visible.
 */
export function useVisibleKeys<T extends HTMLElement>(keys: string) {
  const ref = useRef<T>(null);
  const [visible, setVisible] = useState<ReadonlySet<string> | null>(null);
  useEffect(() => {
    const root = ref.current;
    if (!root || typeof IntersectionObserver === "undefined") return;
    const inView = new Set<string>();
    const io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const key = (e.target as HTMLElement).dataset.key;
          if (!key) continue;
          if (e.isIntersecting) inView.add(key);
          else inView.delete(key);
        }
        setVisible(new Set(inView));
      },
      { root, threshold: 0.01 },
    );
    for (const child of Array.from(root.children)) io.observe(child);
    return () => io.disconnect();
  }, [keys]);
  return { ref, visible };
}
