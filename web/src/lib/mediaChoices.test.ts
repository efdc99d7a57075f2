import { describe, expect, it } from "vitest";
import { loadChoices, saveChoices, type ChoiceStorage } from "./mediaChoices";

function storage(): ChoiceStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
}

describe("media choices", () => {
  it("starts with both on when nothing is remembered", () => {
    expect(loadChoices(storage(), storage(), "abc")).toEqual({ audioMuted: false, videoMuted: false });
    expect(loadChoices(null, null, "abc")).toEqual({ audioMuted: false, videoMuted: false });
  });

  it("a reload mid-meeting comes back muted and with the camera off as it was", () => {
    const local = storage();
    const session = storage();
    saveChoices(local, session, "abc", { audioMuted: true, videoMuted: true });
    expect(loadChoices(local, session, "abc")).toEqual({ audioMuted: true, videoMuted: true });
  });

  it("another meeting's pre-join starts from the browser's last choice", () => {
    const local = storage();
    saveChoices(local, storage(), "abc", { audioMuted: true, videoMuted: false });
    expect(loadChoices(local, storage(), "xyz")).toEqual({ audioMuted: true, videoMuted: false });
  });

  it("this tab's state in the meeting wins over the last choice made elsewhere", () => {
    const local = storage();
    const session = storage();
    saveChoices(local, session, "abc", { audioMuted: true, videoMuted: false });
    saveChoices(local, storage(), "xyz", { audioMuted: false, videoMuted: false }); // another tab
    expect(loadChoices(local, session, "abc").audioMuted).toBe(true);
  });

  it("ignores what it cannot read", () => {
    const local = storage();
    local.map.set("mm.media", "{not json");
    const session = storage();
    session.map.set("mm.media.abc", JSON.stringify({ audioMuted: "yes" }));
    expect(loadChoices(local, session, "abc")).toEqual({ audioMuted: false, videoMuted: false });
  });
});
