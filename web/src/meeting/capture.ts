import type { LocalState, MediaDevicesLike } from "./clientTypes";
import { audioConstraints, classifyMediaError, videoConstraints, type CaptureProblem } from "./media";

/** One device opened, or why not (shown to the participant). */
export interface Opened {
  track: MediaStreamTrack | null;
  problem: CaptureProblem | null;
}

async function openOnce(md: MediaDevicesLike, kind: "microphone" | "camera", deviceId: string | null): Promise<Opened> {
  try {
    const s = await md.getUserMedia(kind === "microphone" ? { audio: audioConstraints(deviceId) } : { video: videoConstraints(deviceId) });
    return { track: (kind === "microphone" ? s.getAudioTracks() : s.getVideoTracks())[0] ?? null, problem: null };
  } catch (e) {
    return { track: null, problem: classifyMediaError(e, kind) };
  }
}

/**
 * Opens the microphone or the camera (`deviceId`: a chosen one, else the default). A chosen
 * device that is gone (remembered from an earlier visit, unplugged since) gives way to the
 * default one rather than to no device at all.
 */
export async function openDevice(md: MediaDevicesLike, kind: "microphone" | "camera", deviceId: string | null): Promise<Opened> {
  const opened = await openOnce(md, kind, deviceId);
  return deviceId && opened.problem?.kind === "not_found" ? openOnce(md, kind, null) : opened;
}

/** The device a track was opened on: with a gone device's fallback, not the one asked for. */
export function deviceIdOf(track: MediaStreamTrack | null, asked: string | null): string | null {
  return track?.getSettings?.().deviceId ?? asked;
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
    const kind = want.audio ? "microphone" : "camera";
    const deviceId = want.audio ? l.audioDeviceId : l.videoDeviceId;
    const problem = classifyMediaError(e, kind);
    const one = deviceId && problem.kind === "not_found" ? await openDevice(md, kind, null) : { track: null, problem };
    return want.audio ? { audio: one, video: none } : { audio: none, video: one };
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
