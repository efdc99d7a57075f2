import { useAllRemoteMedia, useWebRTC } from "../hooks/useWebRTC";
import { TrackAudio } from "./TrackVideo";

/** Plays every remote participant's audio, whether or not their tile is on screen. */
export function AudioRenderer() {
  const remote = useAllRemoteMedia();
  const sinkId = useWebRTC((l) => l.audioOutputId).value;
  return (
    <div className="visually-hidden" aria-hidden="true">
      {Object.entries(remote).flatMap(([id, m]) => m.audio.map((t) => <TrackAudio key={`${id}:${t.id}`} track={t} sinkId={sinkId} />))}
    </div>
  );
}
