import { useEffect, useRef } from "react";

/** A <video> showing one track. Audio is played elsewhere (AudioRenderer), so it is always muted. */
export function TrackVideo({
  track,
  mirror = false,
  fit = "cover",
  label,
}: {
  track: MediaStreamTrack;
  mirror?: boolean;
  fit?: "cover" | "contain";
  label: string;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.srcObject = new MediaStream([track]);
    el.play().catch(() => undefined);
    return () => {
      el.srcObject = null;
    };
  }, [track]);
  return (
    <video
      ref={ref}
      autoPlay
      playsInline
      muted
      aria-label={label}
      className={`track-video fit-${fit}${mirror ? " mirror" : ""}`}
    />
  );
}

/** Plays one remote audio track (hidden) on the chosen output (`sinkId`, null: the default). */
export function TrackAudio({ track, sinkId }: { track: MediaStreamTrack; sinkId: string | null }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const el = ref.current as (HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> }) | null;
    if (!el?.setSinkId) return;
    // A device that is gone (unplugged) falls back to the default output.
    el.setSinkId(sinkId ?? "").catch(() => el.setSinkId?.("").catch(() => undefined));
  }, [sinkId]);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.srcObject = new MediaStream([track]);
    el.play().catch(() => undefined);
    return () => {
      el.srcObject = null;
    };
  }, [track]);
  return <audio ref={ref} autoPlay />;
}
