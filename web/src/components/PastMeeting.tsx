import { useState } from "react";
import { useAuth } from "../hooks/useAuth";
import { meetingsApi, type Meeting } from "../lib/api";
import { attendees, formatDuration } from "../lib/meetingSummary";

/** An ended meeting's length, and who attended, fetched only when asked for. */
export function PastMeeting({ meeting }: { meeting: Meeting }) {
  const { session } = useAuth();
  const [open, setOpen] = useState(false);
  const [names, setNames] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const duration = formatDuration(meeting.started_at, meeting.ended_at);
  const toggle = () => {
    setOpen(!open);
    if (open || names) return;
    meetingsApi
      .participants(session, meeting.code)
      .then((rows) => setNames(attendees(rows)))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : "Could not load who attended"));
  };
  return (
    <div className="past-meeting" data-testid="past-meeting">
      {duration && <span className="muted-text">Lasted {duration}</span>}
      <button type="button" className="link-btn" aria-expanded={open} onClick={toggle}>
        Who attended
      </button>
      {open && (
        <div className="attendees" role="region" aria-label={`Who attended ${meeting.title}`}>
          {error && <span className="form-error">{error}</span>}
          {!error && !names && <span className="muted-text">Loading…</span>}
          {names && (
            <span>
              {names.length} {names.length === 1 ? "person" : "people"}: {names.join(", ")}
            </span>
          )}
        </div>
      )}
    </div>
  );
}
