import { memo } from "react";
import { initials, nameHue } from "../lib/api";
import { useAuth } from "../hooks/useAuth";
import { useMeeting } from "../hooks/useMeeting";
import { useQuality, useRemoteMedia, useSpeaking, useTrackFlow, useWebRTC } from "../hooks/useWebRTC";
import type { Quality } from "../meeting/connectionQuality";
import { tileNotice, videoTrackId, type TileNotice } from "../meeting/trackFlow";
import { GuestBadge } from "./GuestsToggle";
import { Icon } from "./Icon";
import { QualityBars } from "./QualityBars";
import { TileReactions } from "./TileReactions";
import { TrackVideo } from "./TrackVideo";

export type TileKind = "camera" | "screen";

export interface TileDesc {
  key: string;
  participantId: number | "self";
  kind: TileKind;
}

function Avatar({ name }: { name: string }) {
  return (
    <div className="avatar" style={{ ["--hue" as string]: String(nameHue(name)) }} aria-hidden="true">
      {initials(name)}
    </div>
  );
}

interface TileViewProps {
  name: string;
  kind: TileKind;
  track: MediaStreamTrack | null;
  showVideo: boolean;
  audioMuted: boolean;
  speaking: boolean;
  isHost: boolean;
  /** Joined without an account. */
  isGuest?: boolean;
  handRaised: boolean;
  isSelf: boolean;
  reconnecting: boolean;
  participantId: number | "self";
  notice?: TileNotice | null;
  quality?: Quality;
}

function TileView(p: TileViewProps) {
  const label = p.kind === "screen" ? `${p.name}'s screen` : p.isSelf ? `${p.name} (you)` : p.name;
  return (
    <div
      className={`tile${p.speaking && p.kind === "camera" ? " speaking" : ""}${p.kind === "screen" ? " screen" : ""}`}
      role="group"
      aria-label={label}
      data-participant-id={String(p.participantId)}
      data-source={p.kind === "screen" ? "screen_share" : "camera"}
      data-audio-muted={p.kind === "camera" ? String(p.audioMuted) : undefined}
      data-speaking={String(p.speaking)}
    >
      {p.showVideo && p.track && !p.notice ? (
        <TrackVideo
          track={p.track}
          mirror={p.isSelf && p.kind === "camera"}
          fit={p.kind === "screen" ? "contain" : "cover"}
          label={p.kind === "screen" ? `Screen shared by ${p.name}` : `Video of ${p.name}`}
        />
      ) : (
        <Avatar name={p.name} />
      )}
      {p.reconnecting && <div className="tile-overlay">Reconnecting…</div>}
      {p.kind === "camera" && <TileReactions participantId={p.participantId} />}
      {p.kind === "camera" && p.handRaised && (
        <span className="tile-hand" role="img" aria-label="Hand raised" title="Hand raised">
          <Icon name="hand" size={18} />
        </span>
      )}
      {!p.reconnecting && p.notice && (
        <div className="tile-notice" role="status" title={p.notice.title} data-notice="paused_bandwidth">
          <Icon name="camOff" size={16} />
          <span>{p.notice.text}</span>
        </div>
      )}
      <div className="tile-label">
        {p.kind === "camera" && p.audioMuted && (
          <span className="tile-muted" role="img" aria-label="Microphone muted" title="Microphone muted">
            <Icon name="micOff" size={16} />
          </span>
        )}
        {p.kind === "screen" && <Icon name="screen" size={16} />}
        <span className="tile-name">{label}</span>
        {p.kind === "camera" && <QualityBars quality={p.quality} />}
        {p.isGuest && p.kind === "camera" && <GuestBadge className="tag tag-guest tile-guest" />}
        {p.isHost && p.kind === "camera" && (
          <span className="tile-host" role="img" aria-label="Host" title="Host">
            <Icon name="star" size={14} />
          </span>
        )}
      </div>
    </div>
  );
}

function SelfTile({ kind }: { kind: TileKind }) {
  const { user } = useAuth();
  const videoTrack = useWebRTC((l) => l.videoTrack).value;
  const screenTrack = useWebRTC((l) => l.screenTrack).value;
  const audioMuted = useWebRTC((l) => l.audioMuted || !l.audioTrack).value;
  const speaking = useSpeaking("self");
  const quality = useQuality("self");
  const isHost = useMeeting((s) => !!s.meeting && !!user && Number(s.meeting.host_user_id) === user.id);
  const handRaised = useMeeting((s) => s.me?.raised_hand !== undefined);
  const isGuest = useMeeting((s) => !!s.me?.is_guest);
  const track = kind === "screen" ? screenTrack : videoTrack;
  return (
    <TileView
      name={user?.name ?? "You"}
      kind={kind}
      track={track}
      showVideo={!!track}
      audioMuted={audioMuted}
      speaking={speaking && !audioMuted}
      isHost={isHost}
      isGuest={isGuest}
      handRaised={handRaised}
      isSelf
      reconnecting={false}
      participantId="self"
      quality={quality}
    />
  );
}

function RemoteTile({ id, kind }: { id: number; kind: TileKind }) {
  const p = useMeeting((s) => s.participants[id]);
  const media = useRemoteMedia(id);
  const speaking = useSpeaking(id);
  const quality = useQuality(id);
  const notice = tileNotice(useTrackFlow(videoTrackId(p, kind)));
  if (!p) return null;
  const track = kind === "screen" ? media.screen : media.camera;
  const showVideo = kind === "screen" ? !!track : !!track && !p.media.video_muted;
  return (
    <TileView
      name={p.name}
      kind={kind}
      track={track}
      showVideo={showVideo}
      audioMuted={p.media.audio_muted}
      speaking={speaking && !p.media.audio_muted}
      isHost={p.is_host}
      isGuest={p.is_guest}
      handRaised={p.raised_hand !== undefined}
      isSelf={false}
      reconnecting={p.connection === "reconnecting"}
      participantId={id}
      notice={showVideo ? notice : null}
      quality={quality}
    />
  );
}

/** One participant's camera or screen. Subscribes to its own slice of the stores only. */
export const VideoTile = memo(function VideoTile({ tile }: { tile: TileDesc }) {
  return tile.participantId === "self" ? <SelfTile kind={tile.kind} /> : <RemoteTile id={tile.participantId} kind={tile.kind} />;
});
