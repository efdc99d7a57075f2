/** Whether the microphone and the camera are off: what a participant chose, remembered. */
export interface MediaChoices {
  audioMuted: boolean;
  videoMuted: boolean;
}

/** The parts of `Storage` used (tests pass a Map-backed fake). */
export type ChoiceStorage = Pick<Storage, "getItem" | "setItem">;

/** The last choice in this browser, for the pre-join screen of any meeting. */
const LAST_KEY = "mm.media";
/** This tab's state in one meeting, so a reload comes back exactly as it was. */
const meetingKey = (code: string) => `mm.media.${code}`;

function read(storage: ChoiceStorage | null, key: string): MediaChoices | null {
  try {
    const v = JSON.parse(storage?.getItem(key) ?? "null") as Partial<MediaChoices> | null;
    if (v && typeof v.audioMuted === "boolean" && typeof v.videoMuted === "boolean") {
      return { audioMuted: v.audioMuted, videoMuted: v.videoMuted };
    }
  } catch {
    /* unreadable: as if nothing was stored */
  }
  return null;
}

/**
 * The state to start a meeting in: this tab's own state in this meeting (a reload mid-meeting
 * never turns a microphone on that was off), else the browser's last choice, else both on.
 */
export function loadChoices(local: ChoiceStorage | null, session: ChoiceStorage | null, code: string): MediaChoices {
  return read(session, meetingKey(code)) ?? read(local, LAST_KEY) ?? { audioMuted: false, videoMuted: false };
}

/** Remembers `choices` for this meeting in this tab, and as the browser's last choice. */
export function saveChoices(local: ChoiceStorage | null, session: ChoiceStorage | null, code: string, choices: MediaChoices): void {
  const text = JSON.stringify(choices);
  try {
    session?.setItem(meetingKey(code), text);
    local?.setItem(LAST_KEY, text);
  } catch {
    /* storage full or denied: nothing is remembered */
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
