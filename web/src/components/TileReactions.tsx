import { useMemo } from "react";
import { useMeeting } from "../hooks/useMeeting";
import { groupReactions } from "../meeting/moderation";

/** The reactions floating over a participant's camera tile ("self" is our own participant id). */
export function TileReactions({ participantId }: { participantId: number | "self" }) {
  const reactions = useMeeting((s) => s.reactions);
  const selfId = useMeeting((s) => s.selfId);
  const id = participantId === "self" ? selfId : participantId;
  const bubbles = useMemo(() => groupReactions(reactions, id), [reactions, id]);
  if (bubbles.length === 0) return null;
  return (
    <div className="tile-reactions">
      {bubbles.map((b) => (
        <span key={b.emoji} className="reaction-bubble" data-testid="reaction" data-emoji={b.emoji} data-count={b.count} role="img" aria-label={b.count > 1 ? `${b.emoji} ×${b.count}` : b.emoji}>
          <span aria-hidden="true">{b.emoji}</span>
          {b.count > 1 && <span className="reaction-count" aria-hidden="true">×{b.count}</span>}
        </span>
      ))}
    </div>
  );
}
