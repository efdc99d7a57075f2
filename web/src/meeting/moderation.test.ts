import { describe, expect, it } from "vitest";
import type { ParticipantInfo } from "../protocol";
import { canModerate, groupReactions, hostRights, isReaction, mutedNotice, REACTIONS, rosterOrder, unmutePrompt } from "./moderation";

const meeting = { code: "abc", title: "T", host_user_id: 10, locked: false, lobby: false, allow_guests: false };
const info = (extra: Partial<ParticipantInfo> = {}): ParticipantInfo => ({
  id: 1,
  user_id: 20,
  name: "Me",
  is_host: false,
  is_cohost: false,
  is_guest: false,
  connection: "connected",
  media: { audio_muted: false, video_muted: false, screen_sharing: false },
  tracks: [],
  ...extra,
});

describe("hostRights", () => {
  it("is the host by user id, a co-host by what the server said about us, else nothing", () => {
    expect(hostRights(meeting, null, 10)).toBe("host");
    expect(hostRights(meeting, info({ is_cohost: true }), 20)).toBe("cohost");
    expect(hostRights(meeting, info(), 20)).toBeNull();
    expect(hostRights(meeting, null, 20)).toBeNull();
    expect(hostRights(null, null, undefined)).toBeNull();
  });

  it("nobody but the host acts on the host", () => {
    expect(canModerate("host", { is_host: false })).toBe(true);
    expect(canModerate("cohost", { is_host: false })).toBe(true);
    expect(canModerate("cohost", { is_host: true })).toBe(false);
    expect(canModerate(null, { is_host: false })).toBe(false);
  });
});

describe("rosterOrder", () => {
  it("puts raised hands first, earliest first, then you, then the rest in join order", () => {
    const participants = { 2: {}, 3: { raised_hand: 7 }, 4: {}, 5: { raised_hand: 2 } };
    expect(rosterOrder([2, 3, 4, 5], participants, undefined)).toEqual([5, 3, "self", 2, 4]);
    expect(rosterOrder([2, 3, 4, 5], participants, 4)).toEqual([5, "self", 3, 2, 4]);
    expect(rosterOrder([], {}, undefined)).toEqual(["self"]);
  });
});

describe("texts and reactions", () => {
  it("names who muted what, and asks rather than tells", () => {
    expect(mutedNotice("Ada", "microphone")).toBe("Ada muted your microphone");
    expect(mutedNotice("Ada", "camera")).toBe("Ada turned off your camera");
    expect(unmutePrompt("Ada", "microphone")).toBe("Ada asks you to turn on your microphone");
    expect(unmutePrompt("Ada", "camera")).toBe("Ada asks you to turn on your camera");
  });

  it("knows the eight reactions the server accepts", () => {
    expect(REACTIONS).toHaveLength(8);
    expect(isReaction("❤️")).toBe(true);
    expect(isReaction("❤")).toBe(false); // without the variation selector the server refuses it
  });

  it("groups one participant's reactions in flight by emoji, first sent first", () => {
    const rs = [
      { participantId: 2, emoji: "🎉" },
      { participantId: 3, emoji: "👍" },
      { participantId: 2, emoji: "👍" },
      { participantId: 2, emoji: "🎉" },
    ];
    expect(groupReactions(rs, 2)).toEqual([
      { emoji: "🎉", count: 2 },
      { emoji: "👍", count: 1 },
    ]);
    expect(groupReactions(rs, null)).toEqual([]);
  });
});
