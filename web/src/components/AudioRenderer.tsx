import { useAllRemoteMedia, useWebRTC } from "../hooks/useWebRTC";
import { effectiveOutput } from "../lib/audioOutput";
import { TrackAudio } from "./TrackVideo";

/** Plays every remote participant's audio, whether or not their tile is on screen, on the chosen speaker. */
export function AudioRenderer() {
  const remote = useAllRemoteMedia();
  const sinkId = useWebRTC((l) => effectiveOutput(l.audioOutputId, l.devices.audiooutput)).value;
  return (
    <div className="visually-hidden" aria-hidden="true">
      {Object.entries(remote).flatMap(([id, m]) => m.audio.map((t) => <TrackAudio key={`${id}:${t.id}`} track={t} sinkId={sinkId} />))}
    </div>
  );
}
