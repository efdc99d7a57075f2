import { useEffect } from "react";
import { useAuth } from "../hooks/useAuth";
import { useWebRTC } from "../hooks/useWebRTC";
import { initials, nameHue } from "../lib/api";
import { DeviceSelect } from "./DeviceSelect";
import { Icon } from "./Icon";
import { MicMeter } from "./MicMeter";
import { TrackVideo } from "./TrackVideo";

/** Our camera (or initials) with microphone and camera toggles: before joining, and while waiting in the lobby. */
export function PreviewTile() {
  const { user } = useAuth();
  const { client, value: local } = useWebRTC((l) => l);
  const name = user?.name ?? "You";
  const audioOff = local.audioMuted || !local.audioTrack;
  const videoOff = local.videoMuted || !local.videoTrack;
  return (
    <div className="tile preview-tile">
      {local.videoTrack && !local.videoMuted ? (
        <TrackVideo track={local.videoTrack} mirror label="Your camera preview" />
      ) : (
        <div className="avatar" style={{ ["--hue" as string]: String(nameHue(name)) }} aria-hidden="true">
          {initials(name)}
        </div>
      )}
      <div className="preview-controls">
        <button
          type="button"
          className={`ctl${audioOff ? " off" : ""}`}
          aria-label={audioOff ? "Unmute microphone" : "Mute microphone"}
          aria-pressed={audioOff}
          onClick={() => void client.setAudioMuted(!audioOff)}
        >
          <Icon name={audioOff ? "micOff" : "mic"} />
        </button>
        <button
          type="button"
          className={`ctl${videoOff ? " off" : ""}`}
          aria-label={videoOff ? "Turn camera on" : "Turn camera off"}
          aria-pressed={videoOff}
          onClick={() => void client.setVideoMuted(!videoOff)}
        >
          <Icon name={videoOff ? "camOff" : "cam"} />
        </button>
      </div>
    </div>
  );
}

/** Camera and microphone preview, device choice and start-muted options before joining. */
export function PreJoin({ title, code, onJoin }: { title: string; code: string; onJoin: () => void }) {
  const { client, value: local } = useWebRTC((l) => l);

  useEffect(() => {
    void client.acquireMedia();
  }, [client]);

  const audioOff = local.audioMuted || !local.audioTrack;
  return (
    <main className="prejoin">
      <div className="prejoin-preview">
        <PreviewTile />
        {local.acquiring && <p className="muted-text">Starting camera and microphone…</p>}
        {local.cameraProblem && (
          <div className="alert alert-warn" role="alert">
            <strong>Camera unavailable.</strong> {local.cameraProblem.message} You can still join without a camera.
          </div>
        )}
        {local.micProblem && (
          <div className="alert alert-warn" role="alert">
            <strong>Microphone unavailable.</strong> {local.micProblem.message} You can still join and listen.
          </div>
        )}
      </div>
      <div className="prejoin-side card">
        <h1>{title || "Meeting"}</h1>
        <p className="muted-text">
          Code <code>{code}</code>
        </p>
        <DeviceSelect />
        <MicMeter track={local.audioTrack} muted={audioOff} />
        <div className="checkbox-row">
          <label>
            <input type="checkbox" checked={local.audioMuted} onChange={(e) => void client.setAudioMuted(e.target.checked)} /> Join with microphone muted
          </label>
          <label>
            <input type="checkbox" checked={local.videoMuted} onChange={(e) => void client.setVideoMuted(e.target.checked)} /> Join with camera off
          </label>
        </div>
        <button type="button" className="btn btn-primary btn-large" onClick={onJoin} disabled={local.acquiring}>
          Join meeting
        </button>
      </div>
    </main>
  );
}
