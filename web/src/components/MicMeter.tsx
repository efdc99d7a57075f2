import { useEffect, useState } from "react";
import { micLevel } from "../lib/micLevel";

/** Ten readings a second are enough for a level bar and cost nothing noticeable. */
const INTERVAL_MS = 100;

/**
 * The pre-join screen's microphone level: an AnalyserNode on the preview's own track, so the
 * participant sees the right microphone picks them up before joining. Nothing while muted.
 */
export function MicMeter({ track, muted }: { track: MediaStreamTrack | null; muted: boolean }) {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    if (!track || muted || typeof AudioContext === "undefined") return;
    const ctx = new AudioContext();
    // Before any click on the page (an invite link opened in a new tab) the autoplay policy
    // starts the context suspended, the meter flat; the first click or key press wakes it.
    const resume = () => void ctx.resume().catch(() => undefined);
    resume();
    window.addEventListener("pointerdown", resume);
    window.addEventListener("keydown", resume);
    const source = ctx.createMediaStreamSource(new MediaStream([track]));
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      setLevel(micLevel(samples));
    }, INTERVAL_MS);
    return () => {
      clearInterval(timer);
      window.removeEventListener("pointerdown", resume);
      window.removeEventListener("keydown", resume);
      setLevel(0);
      source.disconnect();
      void ctx.close();
    };
  }, [track, muted]);
  if (!track || muted) return null;
  return (
    <div className="mic-meter" data-testid="mic-meter" role="meter" aria-label="Microphone level" aria-valuemin={0} aria-valuemax={100} aria-valuenow={level} data-level={level}>
      <div className="mic-meter-fill" style={{ width: `${level}%` }} />
    </div>
  );
}
