import type { MeetingInfo, ParticipantId, ParticipantInfo, TrackSource } from "../protocol";

/** The reactions the server accepts (`REACTIONS` in signaling/src/protocol.rs), in the picker's order. */
export const REACTIONS = ["👍", "👏", "😂", "😮", "❤️", "🎉", "🤔", "👎"] as const;
export type Reaction = (typeof REACTIONS)[number];

/** How long a reaction floats over its sender's tile. */
export const REACTION_TTL_MS = 4000;
/** The server refuses a second reaction within this time (rate_limited), so the client does not send one. */
export const REACTION_MIN_INTERVAL_MS = 250;

export function isReaction(emoji: string): emoji is Reaction {
  return (REACTIONS as readonly string[]).includes(emoji);
}

/** One bubble per emoji in flight from one participant, with how many (the first sent first). */
export function groupReactions(
  reactions: ReadonlyArray<{ participantId: ParticipantId; emoji: string }>,
  participantId: ParticipantId | null,
): Array<{ emoji: string; count: number }> {
  const byEmoji = new Map<string, number>();
  for (const r of reactions) if (r.participantId === participantId) byEmoji.set(r.emoji, (byEmoji.get(r.emoji) ?? 0) + 1);
  return [...byEmoji].map(([emoji, count]) => ({ emoji, count }));
}

/** What this participant may do to others: the host, a co-host, or nothing. */
export type HostRights = "host" | "cohost" | null;

/**
 * The host is the meeting's owner by user id. Co-host rights are what the server says about
 * ourselves (`joined.you`, then `participant_updated`), held in `me`.
 */
export function hostRights(meeting: MeetingInfo | null, me: ParticipantInfo | null, userId: number | null | undefined): HostRights {
  if (meeting && userId != null && Number(meeting.host_user_id) === userId) return "host";
  return me?.is_cohost ? "cohost" : null;
}

/** Whether `rights` may act on `target` at all: nobody but the host can do anything to the host. */
export function canModerate(rights: HostRights, target: Pick<ParticipantInfo, "is_host">): boolean {
  return rights === "host" || (rights === "cohost" && !target.is_host);
}

/**
 * The participant list's rows: raised hands first, earliest first (the server's `raised_hand`
 * order), then you, then everyone else in join order.
 */
export function rosterOrder(
  order: readonly ParticipantId[],
  participants: Readonly<Record<number, Pick<ParticipantInfo, "raised_hand">>>,
  selfHand: number | undefined,
): Array<ParticipantId | "self"> {
  const hands: Array<{ key: ParticipantId | "self"; place: number }> = [];
  if (selfHand !== undefined) hands.push({ key: "self", place: selfHand });
  for (const id of order) {
    const place = participants[id]?.raised_hand;
    if (place !== undefined) hands.push({ key: id, place });
  }
  hands.sort((a, b) => a.place - b.place);
  const rows: Array<ParticipantId | "self"> = hands.map((h) => h.key);
  if (selfHand === undefined) rows.push("self");
  for (const id of order) if (participants[id]?.raised_hand === undefined) rows.push(id);
  return rows;
}

/** The sentence shown to a participant a host muted. */
export function mutedNotice(byName: string, source: TrackSource): string {
  switch (source) {
    case "microphone":
      return `${byName} muted your microphone`;
    case "camera":
      return `${byName} turned off your camera`;
    default:
      return `${byName} stopped your screen share`;
  }
}

/** The prompt shown when a host asks us to turn a source on (we never do it for them). */
export function unmutePrompt(byName: string, source: TrackSource): string {
  return source === "camera" ? `${byName} asks you to turn on your camera` : `${byName} asks you to turn on your microphone`;
}
