/** What a participant chose of the microphone and the camera, remembered. */
export interface MediaChoices {
  audioMuted: boolean;
  videoMuted: boolean;
  /** The device in use (`null`: the browser's default). */
  audioDeviceId: string | null;
  videoDeviceId: string | null;
  /** The speaker (`setSinkId`), `null`: the default output. */
  audioOutputId: string | null;
}

/** The parts of `Storage` used (tests pass a Map-backed fake). */
export type ChoiceStorage = Pick<Storage, "getItem" | "setItem">;

/** The last choice in this browser, devices included, for the pre-join screen of any meeting. */
const LAST_KEY = "mm.media";
/** This tab's microphone and camera state in one meeting, so a reload comes back exactly as it was. */
const meetingKey = (code: string) => `mm.media.${code}`;

type OnOff = Pick<MediaChoices, "audioMuted" | "videoMuted">;

function parse(storage: ChoiceStorage | null, key: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(storage?.getItem(key) ?? "null");
    if (v && typeof v === "object") return v as Record<string, unknown>;
  } catch {
    /* unreadable: as if nothing was stored */
  }
  return {};
}

function onOff(v: Record<string, unknown>): OnOff | null {
  return typeof v.audioMuted === "boolean" && typeof v.videoMuted === "boolean" ? { audioMuted: v.audioMuted, videoMuted: v.videoMuted } : null;
}

const deviceId = (v: unknown): string | null => (typeof v === "string" && v ? v : null);

/**
 * The state to start a meeting in: the microphone and camera as this tab had them in this
 * meeting (a reload mid-meeting never turns a microphone on that was off), else as last chosen
 * in this browser, else both on; the devices last chosen in this browser, else the defaults.
 */
export function loadChoices(local: ChoiceStorage | null, session: ChoiceStorage | null, code: string): MediaChoices {
  const last = parse(local, LAST_KEY);
  return {
    ...(onOff(parse(session, meetingKey(code))) ?? onOff(last) ?? { audioMuted: false, videoMuted: false }),
    audioDeviceId: deviceId(last.audioDeviceId),
    videoDeviceId: deviceId(last.videoDeviceId),
    audioOutputId: deviceId(last.audioOutputId),
  };
}

/** Remembers the on/off state for this meeting in this tab, and everything as the browser's last choice. */
export function saveChoices(local: ChoiceStorage | null, session: ChoiceStorage | null, code: string, choices: MediaChoices): void {
  put(session, meetingKey(code), { audioMuted: choices.audioMuted, videoMuted: choices.videoMuted });
  put(local, LAST_KEY, choices);
}

function put(storage: ChoiceStorage | null, key: string, value: unknown): void {
  try {
    storage?.setItem(key, JSON.stringify(value));
  } catch {
    /* storage full or denied: not remembered there */
  }
}

/** `window.localStorage` / `sessionStorage`, or null where they are denied. */
export function browserStorage(kind: "local" | "session"): ChoiceStorage | null {
  try {
    return kind === "local" ? window.localStorage : window.sessionStorage;
  } catch {
    return null;
  }
}
