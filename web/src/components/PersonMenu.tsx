import { useEffect, useRef, type KeyboardEvent } from "react";
import { useDismiss } from "../hooks/useDismiss";
import { useHostRights } from "../hooks/useHostRights";
import { useMeeting, useMeetingClient } from "../hooks/useMeeting";
import { canModerate } from "../meeting/moderation";
import type { ParticipantInfo } from "../protocol";
import type { MeetingClient } from "../meeting/MeetingClient";

/** Where the menu opens: under (or, near the bottom of the window, above) the button that opened it. */
export interface MenuAnchor {
  id: number;
  button: HTMLButtonElement;
}

export interface RemoveRequest {
  id: number;
  name: string;
  ban: boolean;
}

interface Item {
  label: string;
  run: () => void;
  danger?: boolean;
}

/** What a host or co-host may do to `p`; only what applies now (no "Mute" for a muted microphone). */
function itemsFor(p: ParticipantInfo, host: boolean, client: MeetingClient, onRemove: (r: RemoveRequest) => void): Item[] {
  const items: Item[] = [];
  if (p.media.audio_muted) items.push({ label: "Ask to unmute", run: () => client.askToUnmute(p.id, "microphone") });
  else items.push({ label: "Mute microphone", run: () => client.muteParticipant(p.id, "microphone") });
  if (p.media.video_muted) items.push({ label: "Ask to turn on camera", run: () => client.askToUnmute(p.id, "camera") });
  else items.push({ label: "Turn off camera", run: () => client.muteParticipant(p.id, "camera") });
  if (p.media.screen_sharing) items.push({ label: "Stop screen share", run: () => client.muteParticipant(p.id, "screen_share") });
  if (p.raised_hand !== undefined) items.push({ label: "Lower hand", run: () => client.lowerHand(p.id) });
  if (host) items.push({ label: p.is_cohost ? "Remove co-host" : "Make co-host", run: () => client.setCohost(p.id, !p.is_cohost) });
  items.push({ label: "Remove from meeting", danger: true, run: () => onRemove({ id: p.id, name: p.name, ban: false }) });
  items.push({ label: "Remove and keep out", danger: true, run: () => onRemove({ id: p.id, name: p.name, ban: true }) });
  return items;
}

/**
 * A host's or co-host's actions on one participant, as a menu fixed to the window (the list
 * it comes from scrolls and clips). Arrow keys move between items; Escape or a click outside
 * closes it and gives the focus back to its button.
 */
export function PersonMenu({ anchor, onClose, onRemove }: { anchor: MenuAnchor; onClose: () => void; onRemove: (r: RemoveRequest) => void }) {
  const client = useMeetingClient();
  const rights = useHostRights();
  const p = useMeeting((s) => s.participants[anchor.id]);
  const ref = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLElement | null>(anchor.button);
  const allowed = !!p && canModerate(rights, p);
  useDismiss(true, [ref, buttonRef], onClose);
  useEffect(() => {
    ref.current?.querySelector<HTMLButtonElement>('[role="menuitem"]')?.focus();
  }, []);
  useEffect(() => {
    // Gone (left, or our rights were taken away) while the menu was open.
    if (!allowed) onClose();
  }, [allowed, onClose]);
  if (!p || !allowed) return null;

  const rect = anchor.button.getBoundingClientRect();
  const below = rect.bottom < window.innerHeight * 0.55;
  const style = below
    ? { top: rect.bottom + 4, right: window.innerWidth - rect.right }
    : { bottom: window.innerHeight - rect.top + 4, right: window.innerWidth - rect.right };
  const close = () => {
    onClose();
    anchor.button.focus();
  };
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === "Escape") close();
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    e.preventDefault();
    const all = [...(ref.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]') ?? [])];
    const i = all.indexOf(document.activeElement as HTMLButtonElement);
    all[(i + (e.key === "ArrowDown" ? 1 : all.length - 1)) % all.length]?.focus();
  };
  return (
    <div ref={ref} className="person-menu" role="menu" aria-label={`Actions for ${p.name}`} style={style} onKeyDown={onKey} data-testid="person-menu">
      {itemsFor(p, rights === "host", client, onRemove).map((item) => (
        <button
          key={item.label}
          type="button"
          role="menuitem"
          className={`menu-item${item.danger ? " danger" : ""}`}
          onClick={() => {
            close();
            item.run();
          }}
        >
          {item.label}
        </button>
      ))}
    </div>
  );
}
