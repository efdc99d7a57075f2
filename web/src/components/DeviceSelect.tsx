import { useId } from "react";
import { useWebRTC } from "../hooks/useWebRTC";

/** Microphone and camera pickers; switching mid-call replaces the sent track. */
export function DeviceSelect() {
  const { client, value: devices } = useWebRTC((l) => l.devices);
  const audioId = useWebRTC((l) => l.audioDeviceId).value;
  const videoId = useWebRTC((l) => l.videoDeviceId).value;
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
    </div>
  );
}
