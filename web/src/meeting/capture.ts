import type { LocalState, MediaDevicesLike } from "./clientTypes";
import { audioConstraints, classifyMediaError, videoConstraints, type CaptureProblem } from "./media";

/** One device opened, or why not (shown to the participant). */
export interface Opened {
  track: MediaStreamTrack | null;
  problem: CaptureProblem | null;
}

/** Opens the microphone or the camera (`deviceId`: a chosen one, else the default). */
export async function openDevice(md: MediaDevicesLike, kind: "microphone" | "camera", deviceId: string | null): Promise<Opened> {
  try {
    const s = await md.getUserMedia(kind === "microphone" ? { audio: audioConstraints(deviceId) } : { video: videoConstraints(deviceId) });
    return { track: (kind === "microphone" ? s.getAudioTracks() : s.getVideoTracks())[0] ?? null, problem: null };
  } catch (e) {
    return { track: null, problem: classifyMediaError(e, kind) };
  }
}

/**
 * Opens what is wanted of the microphone and the camera with one prompt; when that is refused,
 * each on its own, so one refused device does not cost the other.
 */
export async function openMicAndCamera(
  md: MediaDevicesLike,
  want: { audio: boolean; video: boolean },
  l: Pick<LocalState, "audioDeviceId" | "videoDeviceId">,
): Promise<{ audio: Opened; video: Opened }> {
  const none: Opened = { track: null, problem: null };
  try {
    const s = await md.getUserMedia({
      audio: want.audio ? audioConstraints(l.audioDeviceId) : false,
      video: want.video ? videoConstraints(l.videoDeviceId) : false,
    });
    return { audio: { track: s.getAudioTracks()[0] ?? null, problem: null }, video: { track: s.getVideoTracks()[0] ?? null, problem: null } };
  } catch (e) {
    if (want.audio && want.video) {
      return { audio: await openDevice(md, "microphone", l.audioDeviceId), video: await openDevice(md, "camera", l.videoDeviceId) };
    }
    return want.audio
      ? { audio: { track: null, problem: classifyMediaError(e, "microphone") }, video: none }
      : { audio: none, video: { track: null, problem: classifyMediaError(e, "camera") } };
  }
}

/** The devices to choose from, labelled (`null`: the list could not be read). */
export async function listDevices(md: MediaDevicesLike): Promise<LocalState["devices"] | null> {
  try {
    const list = await md.enumerateDevices();
    const devices: LocalState["devices"] = { audioinput: [], videoinput: [], audiooutput: [] };
    let n = 0;
    for (const d of list) {
      if (d.kind in devices && d.deviceId) {
        n++;
        devices[d.kind as keyof LocalState["devices"]].push({ deviceId: d.deviceId, label: d.label || `${d.kind} ${n}` });
      }
    }
    return devices;
  } catch {
    return null;
  }
}
