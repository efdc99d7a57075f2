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

/** Plays one remote audio track (hidden). */
export function TrackAudio({ track }: { track: MediaStreamTrack }) {
  const ref = useRef<HTMLAudioElement>(null);
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
