import { useId } from "react";
import { useWebRTC } from "../hooks/useWebRTC";
import { canChooseOutput } from "./TrackVideo";

/** Microphone, camera and (where the browser can route audio) speaker pickers; switching mid-call replaces the sent track. */
export function DeviceSelect() {
  const { client, value: devices } = useWebRTC((l) => l.devices);
  const audioId = useWebRTC((l) => l.audioDeviceId).value;
  const videoId = useWebRTC((l) => l.videoDeviceId).value;
  const outputId = useWebRTC((l) => l.audioOutputId).value;
  const outId = useId();
  const micId = useId();
  const camId = useId();
  return (
    <div className="device-select">
      <label htmlFor={micId}>Microphone</label>
      <select id={micId} value={audioId ?? ""} onChange={(e) => void client.switchDevice("audioinput", e.target.value)} disabled={!devices.audioinput.length}>
        {!devices.audioinput.length && <option value="">No microphone</option>}
        {devices.audioinput.map((d) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label}
          </option>
        ))}
      </select>
      <label htmlFor={camId}>Camera</label>
      <select id={camId} value={videoId ?? ""} onChange={(e) => void client.switchDevice("videoinput", e.target.value)} disabled={!devices.videoinput.length}>
        {!devices.videoinput.length && <option value="">No camera</option>}
        {devices.videoinput.map((d) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label}
          </option>
        ))}
      </select>
      {canChooseOutput && devices.audiooutput.length > 0 && (
        <>
          <label htmlFor={outId}>Speaker</label>
          <select id={outId} value={outputId ?? ""} onChange={(e) => client.setAudioOutput(e.target.value || null)}>
            <option value="">System default</option>
            {devices.audiooutput
              .filter((d) => d.deviceId !== "default")
              .map((d) => (
                <option key={d.deviceId} value={d.deviceId}>
                  {d.label}
                </option>
              ))}
          </select>
        </>
      )}
    </div>
  );
}
