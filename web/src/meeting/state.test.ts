import { describe, expect, it } from "vitest";
import type { ServerMessage } from "../protocol";
import { describeEndReason, describeProblem, expireReaction, initialMeetingState, isActive, reduceServerMessage, setChatOpen, type MeetingState } from "./state";

const msg = (m: unknown) => JSON.parse(JSON.stringify(m)) as ServerMessage;
const person = (id: number, name: string, extra: Record<string, unknown> = {}) => ({
  id,
  user_id: id * 10,
  name,
  is_host: false,
  connection: "connected",
  media: { audio_muted: false, video_muted: false, screen_sharing: false },
  tracks: [],
  ...extra,
});
const chatMsg = (id: number, from: number) => ({ id, participant_id: from, name: "X", text: `m${id}`, sent_at: "2026-01-01T00:00:00Z" });
const joined = (participants: unknown[], resumed = false, chat_history: unknown[] = [], you: unknown = person(1, "Me")) =>
  msg({
    type: "joined",
    participant_id: 1,
    meeting: { code: "abc", title: "T", host_user_id: 10, locked: false, lobby: false, allow_guests: false },
    you,
    participants,
    ice_servers: [],
    resume_token: "rt",
    resumed,
    chat_history,
  });

function run(...msgs: ServerMessage[]): MeetingState {
  return msgs.reduce(reduceServerMessage, { ...initialMeetingState, phase: "joining" as const });
}

describe("reduceServerMessage", () => {
  it("joined sets self, meeting and the others in order (without self)", () => {
    const s = run(joined([person(2, "Bo"), person(1, "Me"), person(3, "Cy")]));
    expect(s.phase).toBe("joined");
    expect(s.selfId).toBe(1);
    expect(s.order).toEqual([2, 3]);
    expect(s.participants[2].name).toBe("Bo");
  });

  it("participant joined / updated / left", () => {
    let s = run(joined([]), msg({ type: "participant_joined", participant: person(5, "Eve") }));
    expect(s.order).toEqual([5]);
    s = reduceServerMessage(s, msg({ type: "participant_updated", participant: person(5, "Eve", { media: { audio_muted: true, video_muted: false, screen_sharing: false } }) }));
    expect(s.participants[5].media.audio_muted).toBe(true);
    expect(s.order).toEqual([5]);
    s = reduceServerMessage(
      s,
      msg({ type: "subscriber_offer", sdp: "x", tracks: [{ mid: "0", participant_id: 5, track_id: "t", kind: "audio", source: "microphone" }] }),
    );
    expect(Object.keys(s.remoteTracks)).toEqual(["0"]);
    s = reduceServerMessage(s, msg({ type: "participant_left", participant_id: 5, reason: "left" }));
    expect(s.order).toEqual([]);
    expect(s.participants[5]).toBeUndefined();
    expect(s.remoteTracks).toEqual({});
  });

  it("a resumed join keeps the previous order", () => {
    let s = run(joined([person(2, "Bo"), person(3, "Cy")]));
    s = reduceServerMessage(s, joined([person(3, "Cy"), person(2, "Bo"), person(4, "Di")], true));
    expect(s.order).toEqual([2, 3, 4]);
    expect(s.resumed).toBe(true);
  });

  it("chat appends, dedupes by id and counts unread only while the chat is closed", () => {
    const chat = (id: number, from: number) => msg({ type: "chat", ...chatMsg(id, from) });
    let s = run(joined([]), chat(1, 2), chat(1, 2), chat(2, 1));
    expect(s.chat.map((c) => c.text)).toEqual(["m1", "m2"]);
    expect(s.unread).toBe(1); // own message does not count
    s = setChatOpen(s, true);
    expect(s.unread).toBe(0);
    s = reduceServerMessage(s, chat(3, 2));
    expect(s.unread).toBe(0);
    s = setChatOpen(s, false);
    s = reduceServerMessage(s, chat(4, 2));
    expect(s.unread).toBe(1);
  });

  it("a late joiner gets the chat history from joined, not counted as unread", () => {
    const s = run(joined([person(2, "Bo")], false, [chatMsg(4, 2), chatMsg(5, 2)]));
    expect(s.chat.map((c) => c.text)).toEqual(["m4", "m5"]);
    expect(s.unread).toBe(0);
  });

  it("a resume merges the history with what the client holds, by id and in order", () => {
    let s = run(joined([]), msg({ type: "chat", ...chatMsg(1, 2) }), msg({ type: "chat", ...chatMsg(2, 2) }));
    s = reduceServerMessage(s, joined([], true, [chatMsg(2, 2), chatMsg(3, 2)]));
    expect(s.chat.map((c) => c.id)).toEqual([1, 2, 3]);
  });

  it("meeting_ended and fatal errors", () => {
    expect(run(joined([]), msg({ type: "meeting_ended", reason: "host_ended" }))).toMatchObject({ phase: "ended", endedReason: "host_ended" });
    expect(run(msg({ type: "error", code: "meeting_ended", message: "over" }))).toMatchObject({ phase: "ended", endedReason: null });
    expect(run(msg({ type: "error", code: "meeting_not_found", message: "no" }))).toMatchObject({ phase: "failed", failure: { code: "meeting_not_found" } });
    const s = run(joined([]), msg({ type: "error", code: "not_host", message: "no" }));
    expect(s.phase).toBe("joined");
    expect(s.notice?.code).toBe("not_host");
  });
});

describe("describeEndReason", () => {
  it("gives the reason under the ended page's title, never the title again", () => {
    for (const r of ["host_ended", "empty", "server_shutdown", null] as const) {
      expect(describeEndReason(r).toLowerCase()).not.toContain("meeting has ended");
      expect(describeEndReason(r).toLowerCase()).not.toContain("this meeting has ended");
    }
    expect(describeEndReason(null)).toMatch(/dashboard/);
  });
});

describe("hosts in control", () => {
  const me = (extra: Record<string, unknown> = {}) => person(1, "Me", extra);

  it("meeting_updated carries the lock and the lobby to everyone", () => {
    const s0 = run(joined([]), msg({ type: "meeting_updated", meeting: { code: "abc", title: "T", host_user_id: 10, locked: false, lobby: true } }));
    expect(s0.meeting?.lobby).toBe(true);
    const s = run(joined([]), msg({ type: "meeting_updated", meeting: { code: "abc", title: "T", host_user_id: 10, locked: true } }));
    expect(s.meeting?.locked).toBe(true);
  });

  it("a participant_updated about us is kept as `me` (co-host rights, our hand), not listed with the others", () => {
    let s = run(joined([person(2, "Bo")]), msg({ type: "participant_updated", participant: me({ is_cohost: true, raised_hand: 3 }) }));
    expect(s.order).toEqual([2]);
    expect(s.me).toMatchObject({ is_cohost: true, raised_hand: 3 });
    s = reduceServerMessage(s, msg({ type: "participant_updated", participant: me({ is_cohost: true }) }));
    expect(s.me?.raised_hand).toBeUndefined();
  });

  it("joined.you is `me`: co-host rights and a raised hand survive a reload (a fresh join) and a resume", () => {
    const held = run(joined([], false, [], me({ is_cohost: true })), msg({ type: "participant_updated", participant: me({ is_cohost: true, raised_hand: 2 }) }));
    expect(reduceServerMessage(initialMeetingState, joined([], false, [], me({ is_cohost: true, raised_hand: 2 }))).me).toMatchObject({ is_cohost: true, raised_hand: 2 });
    expect(reduceServerMessage(held, joined([], true, [], me({ is_cohost: true, raised_hand: 2 }))).me).toMatchObject({ is_cohost: true, raised_hand: 2 });
    // What the server says wins over what we held.
    expect(reduceServerMessage(held, joined([], false, [], me({ is_cohost: false }))).me).toMatchObject({ is_cohost: false });
    expect(reduceServerMessage(held, joined([], false, [], me({ is_cohost: false }))).me?.raised_hand).toBeUndefined();
  });

  it("muted_by_host is a notice naming the host; unmute_requested a prompt, and a new mute of that source drops it", () => {
    let s = run(joined([person(2, "Bo")]), msg({ type: "unmute_requested", source: "microphone", by: 2 }));
    expect(s.unmuteRequest).toEqual({ source: "microphone", byName: "Bo" });
    s = reduceServerMessage(s, msg({ type: "muted_by_host", source: "microphone", by: 2 }));
    expect(s.notice).toEqual({ code: "muted_by_host", message: "Bo muted your microphone" });
    expect(s.unmuteRequest).toBeNull();
    s = reduceServerMessage(s, msg({ type: "muted_by_host", source: "screen_share", by: 9 }));
    expect(s.notice?.message).toBe("A host stopped your screen share");
  });

  it("removed ends our participation with who did it and whether we are kept out", () => {
    const s = run(joined([person(2, "Bo")]), msg({ type: "removed", by: 2, banned: true }));
    expect(s).toMatchObject({ phase: "removed", removal: { byName: "Bo", banned: true } });
  });

  it("a join refused as locked or removed is a failure with its own sentence", () => {
    for (const code of ["meeting_locked", "removed"]) {
      const s = run(msg({ type: "error", code, message: "no" }));
      expect(s).toMatchObject({ phase: "failed", failure: { code } });
      expect(describeProblem(s.failure!)).not.toBe("no");
    }
    expect(describeProblem({ code: "meeting_locked", message: "" })).toMatch(/locked/);
    const s = run(joined([]), msg({ type: "error", code: "unknown_participant", message: "x" }));
    expect(s.phase).toBe("joined");
    expect(describeProblem(s.notice!)).toMatch(/no longer in the meeting/);
  });

  it("reactions are entries that expire one by one; an emoji the server does not send is ignored", () => {
    let s = run(joined([person(2, "Bo")]), msg({ type: "reaction", participant_id: 2, emoji: "🎉" }), msg({ type: "reaction", participant_id: 1, emoji: "👍" }));
    s = reduceServerMessage(s, msg({ type: "reaction", participant_id: 2, emoji: "<b>" }));
    expect(s.reactions).toEqual([
      { seq: 1, participantId: 2, emoji: "🎉" },
      { seq: 2, participantId: 1, emoji: "👍" },
    ]);
    s = expireReaction(s, 1);
    expect(s.reactions.map((r) => r.seq)).toEqual([2]);
    expect(expireReaction(s, 1)).toBe(s);
  });
});

describe("the lobby", () => {
  const info = { code: "abc", title: "Standup", host_user_id: 10, locked: false, lobby: true };
  const waiter = (lobby_id: number, name: string) => ({ lobby_id, user_id: lobby_id * 100, name });
  const updated = (...waiting: unknown[]) => msg({ type: "lobby_updated", waiting });

  it("counts the lobby as taking part, the pages after it not", () => {
    expect(["joining", "waiting", "joined", "reconnecting"].every((p) => isActive(p as MeetingState["phase"]))).toBe(true);
    expect(["idle", "left", "ended", "removed", "failed"].some((p) => isActive(p as MeetingState["phase"]))).toBe(false);
  });

  it("lobby_waiting puts a joiner in the waiting phase with the meeting's info; joined takes it in as usual", () => {
    let s = run(msg({ type: "lobby_waiting", meeting: info }));
    expect(s).toMatchObject({ phase: "waiting", meeting: { title: "Standup", lobby: true }, selfId: null });
    s = reduceServerMessage(s, joined([person(2, "Bo")], false, [], person(1, "Me")));
    expect(s).toMatchObject({ phase: "joined", selfId: 1, order: [2], me: { name: "Me" } });
  });

  it("denied or timed out, the waiter is turned back with its own sentence (and may ask again)", () => {
    for (const code of ["lobby_denied", "lobby_timeout"]) {
      const s = [msg({ type: "lobby_waiting", meeting: info }), msg({ type: "error", code, message: "x" })].reduce(reduceServerMessage, initialMeetingState);
      expect(s).toMatchObject({ phase: "failed", failure: { code } });
      expect(describeProblem(s.failure!)).not.toBe("x");
    }
    expect(describeProblem({ code: "lobby_timeout", message: "" })).toMatch(/ask to join again/i);
  });

  it("lobby_updated lists who waits and announces the latest newcomer until it is let in, turned away or dismissed", () => {
    let s = run(joined([]), updated(waiter(1, "Ann")));
    expect(s.lobby.map((w) => w.name)).toEqual(["Ann"]);
    expect(s.lobbyAlert?.name).toBe("Ann");
    s = reduceServerMessage(s, updated(waiter(1, "Ann"), waiter(2, "Ben")));
    expect(s.lobbyAlert?.name).toBe("Ben");
    s = reduceServerMessage(s, updated(waiter(2, "Ben")));
    expect(s.lobbyAlert?.name).toBe("Ben"); // Ann went; Ben is still the news
    s = reduceServerMessage(s, updated());
    expect(s).toMatchObject({ lobby: [], lobbyAlert: null });
  });

  it("a join starts without a lobby list (the server sends it right after), and losing co-host rights drops it", () => {
    let s = run(joined([], false, [], person(1, "Me", { is_cohost: true })), updated(waiter(1, "Ann")));
    expect(reduceServerMessage(s, joined([], true, [], person(1, "Me", { is_cohost: true })))).toMatchObject({ lobby: [], lobbyAlert: null });
    s = reduceServerMessage(s, msg({ type: "participant_updated", participant: person(1, "Me", { is_cohost: true, raised_hand: 1 }) }));
    expect(s.lobby).toHaveLength(1);
    s = reduceServerMessage(s, msg({ type: "participant_updated", participant: person(1, "Me", { is_cohost: false }) }));
    expect(s).toMatchObject({ lobby: [], lobbyAlert: null });
  });
});
