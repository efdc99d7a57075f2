import { useHostRights } from "../hooks/useHostRights";
import { useMeeting, useMeetingClient } from "../hooks/useMeeting";

/** Hosts' and co-hosts' switch for guests (people without an account, by the link), beside Lock and Lobby. */
export function GuestsToggle() {
  const client = useMeetingClient();
  const rights = useHostRights();
  const allowed = useMeeting((s) => !!s.meeting?.allow_guests);
  if (!rights) return null;
  const title = allowed ? "Stop letting people join without an account (guests inside stay)" : "Let people join by the link without an account (they wait in the lobby)";
  return (
    <button
      type="button"
      className={`btn btn-small ${allowed ? "btn-warn" : "btn-secondary"}`}
      aria-label="Allow guests"
      title={title}
      aria-pressed={allowed}
      data-testid="guests-toggle"
      onClick={() => client.allowGuests(!allowed)}
    >
      Guests{allowed ? " allowed" : ""}
    </button>
  );
}

/** The "Guest" badge of someone who joined without an account. */
export function GuestBadge({ className = "tag tag-guest" }: { className?: string }) {
  return (
    <span className={className} data-testid="guest-badge" title="Joined without an account">
      Guest
    </span>
  );
}
