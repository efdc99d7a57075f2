import { describe, expect, it } from "vitest";
import { lobbyAlertAfter, lobbyAlertText } from "./lobby";

const w = (lobby_id: number, name: string) => ({ lobby_id, user_id: lobby_id, name, is_guest: false });

describe("lobbyAlertAfter", () => {
  it("announces the latest newcomer, keeps an announcement while its person waits, and drops it after", () => {
    const ann = w(1, "Ann");
    const ben = w(2, "Ben");
    expect(lobbyAlertAfter([], null, [ann, ben])).toEqual(ben);
    expect(lobbyAlertAfter([ann], null, [ann])).toBeNull(); // dismissed: no news
    expect(lobbyAlertAfter([ann, ben], ann, [ann])).toEqual(ann);
    expect(lobbyAlertAfter([ann, ben], ben, [ann])).toBeNull();
    // Someone who comes back waits under a new lobby id: news again.
    expect(lobbyAlertAfter([ann], null, [ann, w(3, "Ben")])).toEqual(w(3, "Ben"));
  });
});

describe("lobbyAlertText", () => {
  it("names the newcomer and counts the others", () => {
    expect(lobbyAlertText(w(1, "Ann"), 1)).toBe("Ann is waiting to join");
    expect(lobbyAlertText(w(1, "Ann"), 2)).toBe("Ann and 1 other are waiting to join");
    expect(lobbyAlertText(w(1, "Ann"), 4)).toBe("Ann and 3 others are waiting to join");
  });
});
