import { memo, useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useAuth } from "../hooks/useAuth";
import { useHostRights } from "../hooks/useHostRights";
import { useMeeting, useMeetingClient } from "../hooks/useMeeting";
import { useWebRTC } from "../hooks/useWebRTC";
import { initials, nameHue } from "../lib/api";
import { rowWindow } from "../lib/virtualList";
import { canModerate, rosterOrder } from "../meeting/moderation";
import { ConfirmDialog } from "./ConfirmDialog";
import { GuestBadge } from "./GuestsToggle";
import { WaitingList } from "./Lobby";
import { Icon } from "./Icon";
import { PersonMenu, type MenuAnchor, type RemoveRequest } from "./PersonMenu";

/** `.person`'s height in px (styles.css): the list is virtualised on fixed rows. */
const ROW_HEIGHT = 48;

interface RowProps {
  name: string;
  you: boolean;
  host: boolean;
  cohost: boolean;
  /** Joined without an account. */
  guest?: boolean;
  /** The raised hand's place, while it is up. */
  hand: number | undefined;
  audioMuted: boolean;
  videoMuted: boolean;
  sharing: boolean;
  reconnecting: boolean;
  /** The host actions button, for those who may use it. */
  actions?: ReactNode;
}

function Row({ name, you, host, cohost, guest, hand, audioMuted, videoMuted, sharing, reconnecting, actions }: RowProps) {
  return (
    <li className="person" data-testid="person" data-name={name} data-audio-muted={String(audioMuted)} data-hand-raised={String(hand !== undefined)}>
      <span className="person-avatar" style={{ ["--hue" as string]: String(nameHue(name)) }} aria-hidden="true">
        {initials(name)}
      </span>
      <span className="person-name">
        {name}
        {you && <span className="muted-text"> (you)</span>}
        {host && <span className="tag">Host</span>}
        {cohost && <span className="tag">Co-host</span>}
        {guest && <GuestBadge />}
        {reconnecting && <span className="tag tag-warn">Reconnecting</span>}
      </span>
      <span className="person-icons">
        {hand !== undefined && (
          <span className="person-hand" role="img" aria-label="Hand raised" title="Hand raised">
            <Icon name="hand" size={18} />
          </span>
        )}
        {sharing && (
          <span role="img" aria-label="Sharing screen" title="Sharing screen">
            <Icon name="screen" size={18} />
          </span>
        )}
        <span role="img" aria-label={videoMuted ? "Camera off" : "Camera on"} title={videoMuted ? "Camera off" : "Camera on"} className={videoMuted ? "icon-off" : ""}>
          <Icon name={videoMuted ? "camOff" : "cam"} size={18} />
        </span>
        <span role="img" aria-label={audioMuted ? "Microphone muted" : "Microphone on"} title={audioMuted ? "Microphone muted" : "Microphone on"} className={audioMuted ? "icon-off" : ""}>
          <Icon name={audioMuted ? "micOff" : "mic"} size={18} />
        </span>
        {actions}
      </span>
    </li>
  );
}

function SelfRow() {
  const { user } = useAuth();
  const hostUserId = useMeeting((s) => (s.meeting ? Number(s.meeting.host_user_id) : null));
  const me = useMeeting((s) => s.me);
  const audioMuted = useWebRTC((l) => l.audioMuted || !l.audioTrack).value;
  const videoMuted = useWebRTC((l) => l.videoMuted || !l.videoTrack).value;
  const sharing = useWebRTC((l) => !!l.screenTrack).value;
  return (
    <Row
      name={user?.name ?? "You"}
      you
      host={hostUserId !== null && hostUserId === user?.id}
      cohost={!!me?.is_cohost}
      guest={!!me?.is_guest}
      hand={me?.raised_hand}
      audioMuted={audioMuted}
      videoMuted={videoMuted}
      sharing={sharing}
      reconnecting={false}
    />
  );
}

/** One remote participant's row: it reads only its own participant, so a change to one person re-renders one row. */
const RemoteRow = memo(function RemoteRow({ id, menuOpen, onMenu }: { id: number; menuOpen: boolean; onMenu: (a: MenuAnchor | null) => void }) {
  const p = useMeeting((s) => s.participants[id]);
  const rights = useHostRights();
  if (!p) return null;
  const actions = canModerate(rights, p) ? (
    <button
      type="button"
      className="icon-btn person-more"
      aria-label={`Actions for ${p.name}`}
      aria-haspopup="menu"
      aria-expanded={menuOpen}
      onClick={(e) => onMenu(menuOpen ? null : { id, button: e.currentTarget })}
    >
      <Icon name="more" size={18} />
    </button>
  ) : undefined;
  return (
    <Row
      name={p.name}
      you={false}
      host={p.is_host}
      cohost={p.is_cohost}
      guest={p.is_guest}
      hand={p.raised_hand}
      audioMuted={p.media.audio_muted}
      videoMuted={p.media.video_muted}
      sharing={p.media.screen_sharing}
      reconnecting={p.connection === "reconnecting"}
      actions={actions}
    />
  );
});

/**
 * Everyone in the meeting: raised hands first (in the order they went up), then you, then the
 * rest; only the rows in view are in the DOM. Hosts see who waits in the lobby above them.
 */
export function ParticipantList() {
  const client = useMeetingClient();
  const order = useMeeting((s) => s.order);
  const participants = useMeeting((s) => s.participants);
  const selfHand = useMeeting((s) => s.me?.raised_hand);
  const rowsInOrder = useMemo(() => rosterOrder(order, participants, selfHand), [order, participants, selfHand]);
  const [menu, setMenu] = useState<MenuAnchor | null>(null);
  const [removing, setRemoving] = useState<RemoveRequest | null>(null);
  const closeMenu = useCallback(() => setMenu(null), []);
  const ref = useRef<HTMLUListElement>(null);
  const [scroll, setScroll] = useState({ top: 0, height: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setScroll((s) => (s.top === el.scrollTop && s.height === el.clientHeight ? s : { top: el.scrollTop, height: el.clientHeight }));
    measure();
    // The menu is fixed to the window: it would stay behind while its row scrolls away.
    const onScroll = () => {
      measure();
      setMenu(null);
    };
    el.addEventListener("scroll", onScroll, { passive: true });
    const ro = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(measure);
    ro?.observe(el);
    return () => {
      el.removeEventListener("scroll", onScroll);
      ro?.disconnect();
    };
  }, []);
  const w = rowWindow(rowsInOrder.length, ROW_HEIGHT, scroll.top, scroll.height);
  const rows = rowsInOrder.slice(w.start, w.end);
  return (
    <>
      <WaitingList />
      <ul ref={ref} className="people" aria-label={`Participants (${order.length + 1})`} data-rendered-rows={rows.length}>
        {w.padTop > 0 && <li className="people-pad" aria-hidden="true" style={{ height: w.padTop }} />}
        {rows.map((key) => (key === "self" ? <SelfRow key="self" /> : <RemoteRow key={key} id={key} menuOpen={menu?.id === key} onMenu={setMenu} />))}
        {w.padBottom > 0 && <li className="people-pad" aria-hidden="true" style={{ height: w.padBottom }} />}
      </ul>
      {menu && <PersonMenu anchor={menu} onClose={closeMenu} onRemove={setRemoving} />}
      {removing && (
        <ConfirmDialog
          title={`Remove ${removing.name} from the meeting?`}
          body={removing.ban ? "They won't be able to rejoin this meeting." : "They can rejoin with the meeting link."}
          confirmLabel={removing.ban ? "Remove and keep out" : "Remove"}
          onCancel={() => setRemoving(null)}
          onConfirm={() => {
            client.removeParticipant(removing.id, removing.ban);
            setRemoving(null);
          }}
        />
      )}
    </>
  );
}

/** The host's and co-hosts' lock: nobody new can join while it is on (everyone sees the "Locked" badge). */
export function LockToggle() {
  const client = useMeetingClient();
  const rights = useHostRights();
  const locked = useMeeting((s) => !!s.meeting?.locked);
  if (!rights) return null;
  const label = locked ? "Unlock meeting" : "Lock meeting";
  return (
    <button
      type="button"
      className={`btn btn-small ${locked ? "btn-warn" : "btn-secondary"}`}
      aria-label={label}
      title={label}
      aria-pressed={locked}
      data-testid="lock-toggle"
      onClick={() => client.lockMeeting(!locked)}
    >
      <Icon name={locked ? "lock" : "lockOpen"} size={16} />
      {locked ? "Locked" : "Lock"}
    </button>
  );
}
