import { useMeeting, useMeetingClient } from "../hooks/useMeeting";
import { isAlone } from "../lib/alone";
import { inviteLink } from "../lib/invite";
import { CopyButton } from "./CopyButton";

/** Shown while nobody else is in the meeting: what to do next, with the link to send. Gone as soon as someone joins. */
export function AlonePanel() {
  const client = useMeetingClient();
  const alone = useMeeting(isAlone);
  if (!alone) return null;
  const link = inviteLink(client.code, window.location.origin);
  return (
    <div className="alone-panel card" data-testid="alone-panel" role="status">
      <h2>Only you here</h2>
      <p>Share the link so others can join.</p>
      <input className="alone-link" readOnly value={link} aria-label="Meeting link" onFocus={(e) => e.currentTarget.select()} />
      <CopyButton text={link} />
    </div>
  );
}
