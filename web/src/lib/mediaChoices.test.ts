import { describe, expect, it } from "vitest";
import { loadChoices, saveChoices, type ChoiceStorage, type MediaChoices } from "./mediaChoices";

function storage(): ChoiceStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
}

const choices = (c: Partial<MediaChoices>): MediaChoices => ({ audioMuted: false, videoMuted: false, audioDeviceId: null, videoDeviceId: null, audioOutputId: null, ...c });

describe("media choices", () => {
  it("starts with both on and the default devices when nothing is remembered", () => {
    expect(loadChoices(storage(), storage(), "abc")).toEqual(choices({}));
    expect(loadChoices(null, null, "abc")).toEqual(choices({}));
  });

  it("a reload mid-meeting comes back muted, with the camera off and on the devices, as it was", () => {
    const local = storage();
    const session = storage();
    const was = choices({ audioMuted: true, videoMuted: true, audioDeviceId: "mic-2", videoDeviceId: "cam-2" });
    saveChoices(local, session, "abc", was);
    expect(loadChoices(local, session, "abc")).toEqual(was);
  });

  it("remembers the speaker, and reads choices stored before there was one", () => {
    const local = storage();
    saveChoices(local, storage(), "abc", choices({ audioOutputId: "out-2" }));
    expect(loadChoices(local, storage(), "xyz").audioOutputId).toBe("out-2");
    const old = storage();
    old.setItem("mm.media", JSON.stringify({ audioMuted: true, videoMuted: false, audioDeviceId: "mic-1", videoDeviceId: null }));
    expect(loadChoices(old, storage(), "abc")).toEqual(choices({ audioMuted: true, audioDeviceId: "mic-1" }));
    const odd = storage();
    odd.setItem("mm.media", JSON.stringify({ audioMuted: false, videoMuted: false, audioOutputId: 7 }));
    expect(loadChoices(odd, storage(), "abc").audioOutputId).toBeNull();
  });

  it("another meeting's pre-join starts from the browser's last choice, devices included", () => {
    const local = storage();
    saveChoices(local, storage(), "abc", choices({ audioMuted: true, audioDeviceId: "mic-2" }));
    expect(loadChoices(local, storage(), "xyz")).toEqual(choices({ audioMuted: true, audioDeviceId: "mic-2" }));
  });

  it("this tab's state in the meeting wins over the last choice made elsewhere: a muted microphone stays muted", () => {
    const local = storage();
    const session = storage();
    saveChoices(local, session, "abc", choices({ audioMuted: true }));
    saveChoices(local, storage(), "xyz", choices({ audioMuted: false, videoDeviceId: "cam-3" })); // another tab
    expect(loadChoices(local, session, "abc")).toEqual(choices({ audioMuted: true, videoDeviceId: "cam-3" }));
  });

  it("keeps only the on/off state per meeting, the devices per browser", () => {
    const local = storage();
    const session = storage();
    saveChoices(local, session, "abc", choices({ videoMuted: true, audioDeviceId: "mic-2" }));
    expect(JSON.parse(session.map.get("mm.media.abc")!)).toEqual({ audioMuted: false, videoMuted: true });
    expect(JSON.parse(local.map.get("mm.media")!)).toMatchObject({ audioDeviceId: "mic-2" });
  });

  it("reads an entry from before devices were remembered", () => {
    const local = storage();
    local.map.set("mm.media", JSON.stringify({ audioMuted: true, videoMuted: false }));
    expect(loadChoices(local, storage(), "abc")).toEqual(choices({ audioMuted: true }));
  });

  it("ignores what it cannot read", () => {
    const local = storage();
    local.map.set("mm.media", "{not json");
    const session = storage();
    session.map.set("mm.media.abc", JSON.stringify({ audioMuted: "yes", audioDeviceId: 7 }));
    expect(loadChoices(local, session, "abc")).toEqual(choices({}));
  });

  it("a storage that refuses to write does not cost the other", () => {
    const local = storage();
    const denied: ChoiceStorage = {
      getItem: () => null,
      setItem: () => {
        throw new Error("QuotaExceededError");
      },
    };
    saveChoices(local, denied, "abc", choices({ audioMuted: true }));
    expect(loadChoices(local, denied, "abc").audioMuted).toBe(true);
  });
});
