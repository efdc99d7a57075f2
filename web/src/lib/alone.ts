import type { MeetingState } from "../meeting/state";

/**
 * Whether we are in the meeting and nobody else is, so the video area offers the invite link.
 * A reconnect keeps the answer it had (the list is still the last one known) rather than
 * hiding the panel for a moment.
 */
export function isAlone(s: Pick<MeetingState, "phase" | "order">): boolean {
  return (s.phase === "joined" || s.phase === "reconnecting") && s.order.length === 0;
}
