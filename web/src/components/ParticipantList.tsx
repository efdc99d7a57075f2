import { memo, useEffect, useRef, useState } from "react";
import { useAuth } from "../hooks/useAuth";
import { useMeeting } from "../hooks/useMeeting";
import { useWebRTC } from "../hooks/useWebRTC";
import { initials, nameHue } from "../lib/api";
import { rowWindow } from "../lib/virtualList";
import { Icon } from "./Icon";

/** `.person`'s height in px (styles.css): the list is virtualised on fixed rows. */
const ROW_HEIGHT = 48;

interface RowProps {
  name: string;
  you: boolean;
  host: boolean;
  audioMuted: boolean;
  videoMuted: boolean;
  sharing: boolean;
  reconnecting: boolean;
}

function Row({ name, you, host, audioMuted, videoMuted, sharing, reconnecting }: RowProps) {
  return (
    <li className="person" data-audio-muted={String(audioMuted)}>
      <span className="person-avatar" style={{ ["--hue" as string]: String(nameHue(name)) }} aria-hidden="true">
        {initials(name)}
      </span>
      <span className="person-name">
        {name}
        {you && <span className="muted-text"> (you)</span>}
        {host && <span className="tag">Host</span>}
        {reconnecting && <span className="tag tag-warn">Reconnecting</span>}
      </span>
      <span className="person-icons">
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
      </span>
    </li>
  );
}

function SelfRow() {
  const { user } = useAuth();
  const hostUserId = useMeeting((s) => (s.meeting ? Number(s.meeting.host_user_id) : null));
  const audioMuted = useWebRTC((l) => l.audioMuted || !l.audioTrack).value;
  const videoMuted = useWebRTC((l) => l.videoMuted || !l.videoTrack).value;
  const sharing = useWebRTC((l) => !!l.screenTrack).value;
  return (
    <Row
      name={user?.name ?? "You"}
      you
      host={hostUserId !== null && hostUserId === user?.id}
      audioMuted={audioMuted}
      videoMuted={videoMuted}
      sharing={sharing}
      reconnecting={false}
    />
  );
}

/** One remote participant's row: it reads only its own participant, so a change to one person re-renders one row. */
const RemoteRow = memo(function RemoteRow({ id }: { id: number }) {
  const p = useMeeting((s) => s.participants[id]);
  if (!p) return null;
  return (
    <Row
      name={p.name}
      you={false}
      host={p.is_host}
      audioMuted={p.media.audio_muted}
      videoMuted={p.media.video_muted}
      sharing={p.media.screen_sharing}
      reconnecting={p.connection === "reconnecting"}
    />
  );
});

/** Everyone in the meeting, you first; only the rows in view are in the DOM. */
export function ParticipantList() {
  const order = useMeeting((s) => s.order);
  const ref = useRef<HTMLUListElement>(null);
  const [scroll, setScroll] = useState({ top: 0, height: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setScroll((s) => (s.top === el.scrollTop && s.height === el.clientHeight ? s : { top: el.scrollTop, height: el.clientHeight }));
    measure();
    el.addEventListener("scroll", measure, { passive: true });
    const ro = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(measure);
    ro?.observe(el);
    return () => {
      el.removeEventListener("scroll", measure);
      ro?.disconnect();
    };
  }, []);
  // Row 0 is you; rows 1.. are `order`.
  const w = rowWindow(order.length + 1, ROW_HEIGHT, scroll.top, scroll.height);
  const rows: number[] = [];
  for (let i = w.start; i < w.end; i++) rows.push(i);
  return (
    <ul ref={ref} className="people" aria-label={`Participants (${order.length + 1})`} data-rendered-rows={rows.length}>
      {w.padTop > 0 && <li className="people-pad" aria-hidden="true" style={{ height: w.padTop }} />}
      {rows.map((i) => (i === 0 ? <SelfRow key="self" /> : <RemoteRow key={order[i - 1]} id={order[i - 1]} />))}
      {w.padBottom > 0 && <li className="people-pad" aria-hidden="true" style={{ height: w.padBottom }} />}
    </ul>
  );
}
