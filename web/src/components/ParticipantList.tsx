import { useAuth } from "../hooks/useAuth";
import { useMeeting } from "../hooks/useMeeting";
import { useWebRTC } from "../hooks/useWebRTC";
import { initials, nameHue } from "../lib/api";
import { Icon } from "./Icon";

function Row({ name, you, host, audioMuted, videoMuted, sharing, reconnecting }: { name: string; you: boolean; host: boolean; audioMuted: boolean; videoMuted: boolean; sharing: boolean; reconnecting: boolean }) {
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

export function ParticipantList() {
  const { user } = useAuth();
  const order = useMeeting((s) => s.order);
  const participants = useMeeting((s) => s.participants);
  const hostUserId = useMeeting((s) => (s.meeting ? Number(s.meeting.host_user_id) : null));
  const self = useWebRTC((l) => l).value;
  return (
    <ul className="people" aria-label="Participants">
      <Row
        name={user?.name ?? "You"}
        you
        host={hostUserId !== null && hostUserId === user?.id}
        audioMuted={self.audioMuted || !self.audioTrack}
        videoMuted={self.videoMuted || !self.videoTrack}
        sharing={!!self.screenTrack}
        reconnecting={false}
      />
      {order.map((id) => {
        const p = participants[id];
        if (!p) return null;
        return (
          <Row
            key={id}
            name={p.name}
            you={false}
            host={p.is_host}
            audioMuted={p.media.audio_muted}
            videoMuted={p.media.video_muted}
            sharing={p.media.screen_sharing}
            reconnecting={p.connection === "reconnecting"}
          />
        );
      })}
    </ul>
  );
}
