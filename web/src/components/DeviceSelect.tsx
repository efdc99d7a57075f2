import { useEffect, useId } from "react";
import { useWebRTC } from "../hooks/useWebRTC";
import { canChooseOutput, effectiveOutput, outputOptions } from "../lib/audioOutput";

const CHOOSE_OUTPUT = canChooseOutput();

/**
 * Microphone, camera and (where the browser can route audio) speaker pickers; switching mid-call
 * replaces the sent track. The lists are read again when the pickers open and when a device is
 * plugged in or out, so a headset connected mid-call can be chosen.
 */
export function DeviceSelect() {
  const { client, value: devices } = useWebRTC((l) => l.devices);
  const audioId = useWebRTC((l) => l.audioDeviceId).value;
  const videoId = useWebRTC((l) => l.videoDeviceId).value;
  const outputId = useWebRTC((l) => effectiveOutput(l.audioOutputId, l.devices.audiooutput)).value;
  const micId = useId();
  const camId = useId();
  const outId = useId();
  useEffect(() => {
    const md = typeof navigator !== "undefined" ? navigator.mediaDevices : undefined;
    const refresh = () => void client.refreshDevices();
    refresh();
    md?.addEventListener("devicechange", refresh);
    return () => md?.removeEventListener("devicechange", refresh);
  }, [client]);
  const outputs = outputOptions(devices.audiooutput);
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
      {CHOOSE_OUTPUT && devices.audiooutput.length > 0 && (
        <>
          <label htmlFor={outId}>Speaker</label>
          <select id={outId} value={outputId ?? ""} onChange={(e) => client.setAudioOutput(e.target.value || null)}>
            <option value="">System default</option>
            {outputs.map((d) => (
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
