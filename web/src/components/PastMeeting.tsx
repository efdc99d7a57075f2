import { useState } from "react";
import { useAuth } from "../hooks/useAuth";
import { meetingsApi, type Meeting } from "../lib/api";
import { ApiError } from "../lib/auth";
import { attendees, attendeeSummary, formatDuration } from "../lib/meetingSummary";

type Who = { kind: "unasked" } | { kind: "loading" } | { kind: "ok"; names: string[] } | { kind: "error"; message: string };

/** An ended meeting's length, and who attended, fetched only when asked for (not for every row of the list). */
export function PastMeeting({ meeting }: { meeting: Meeting }) {
  const { session } = useAuth();
  const [open, setOpen] = useState(false);
  const [who, setWho] = useState<Who>({ kind: "unasked" });
  // Never started: nobody ever joined, so there is nothing to fetch.
  if (!meeting.started_at) {
    return (
      <div className="past-meeting" data-testid="past-meeting">
        <span className="muted-text">Nobody joined</span>
      </div>
    );
  }
  const duration = formatDuration(meeting.started_at, meeting.ended_at);
  const toggle = () => {
    setOpen(!open);
    if (open || who.kind === "loading" || who.kind === "ok") return;
    setWho({ kind: "loading" });
    meetingsApi
      .participants(session, meeting.code)
      .then((rows) => setWho({ kind: "ok", names: attendees(rows) }))
      .catch((e: unknown) => setWho({ kind: "error", message: e instanceof ApiError ? e.message : "Could not load who attended." }));
  };
  return (
    <div className="past-meeting" data-testid="past-meeting">
      {duration && <span className="muted-text">Lasted {duration}</span>}
      <button type="button" className="link-btn" aria-expanded={open} onClick={toggle}>
        Who attended
      </button>
      {open && (
        <div className="attendees" role="region" aria-label={`Who attended ${meeting.title}`} aria-busy={who.kind === "loading"}>
          {who.kind === "loading" && <span className="muted-text">Loading…</span>}
          {who.kind === "error" && <span className="form-error">{who.message}</span>}
          {who.kind === "ok" && <span data-testid="attendees">{attendeeSummary(who.names)}</span>}
        </div>
      )}
    </div>
  );
}
