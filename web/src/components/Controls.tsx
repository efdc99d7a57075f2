import { useEffect, useState } from "react";
import { isMacPlatform, matchShortcut, shortcutLabel } from "../lib/shortcuts";
import { useMeeting } from "../hooks/useMeeting";
import { useWebRTC } from "../hooks/useWebRTC";
import { DeviceSelect } from "./DeviceSelect";
import { Icon } from "./Icon";
import type { ViewMode } from "./VideoGrid";

export type Panel = "chat" | "people" | null;

const MAC = typeof navigator !== "undefined" && isMacPlatform(navigator.platform || navigator.userAgent);

export function Controls({
  isHost,
  panel,
  onPanel,
  view,
  onView,
  onLeave,
  onEnd,
}: {
  isHost: boolean;
  panel: Panel;
  onPanel: (p: Panel) => void;
  view: ViewMode;
  onView: (v: ViewMode) => void;
  onLeave: () => void;
  onEnd: () => void;
}) {
  const { client, value: audioMuted } = useWebRTC((l) => l.audioMuted || !l.audioTrack);
  const videoMuted = useWebRTC((l) => l.videoMuted || !l.videoTrack).value;
  const sharing = useWebRTC((l) => !!l.screenTrack).value;
  const unread = useMeeting((s) => s.unread);
  const count = useMeeting((s) => s.order.length + 1);
  const [settings, setSettings] = useState(false);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const action = matchShortcut(e, MAC);
      if (!action) return;
      e.preventDefault();
      if (action === "toggle_mic") void client.toggleAudio();
      else void client.toggleVideo();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [client]);

  const micLabel = `${audioMuted ? "Unmute microphone" : "Mute microphone"} (${shortcutLabel("toggle_mic", MAC)})`;
  const camLabel = `${videoMuted ? "Turn camera on" : "Turn camera off"} (${shortcutLabel("toggle_camera", MAC)})`;

  return (
    <div className="controls" role="toolbar" aria-label="Meeting controls">
      <div className="controls-group">
        <button type="button" className={`ctl${audioMuted ? " off" : ""}`} aria-label={micLabel} title={micLabel} aria-pressed={audioMuted} onClick={() => void client.toggleAudio()}>
          <Icon name={audioMuted ? "micOff" : "mic"} />
        </button>
        <button type="button" className={`ctl${videoMuted ? " off" : ""}`} aria-label={camLabel} title={camLabel} aria-pressed={videoMuted} onClick={() => void client.toggleVideo()}>
          <Icon name={videoMuted ? "camOff" : "cam"} />
        </button>
        {client.canShareScreen && (
          <button
            type="button"
            className={`ctl${sharing ? " active" : ""} hide-narrow`}
            aria-label={sharing ? "Stop sharing screen" : "Share screen"}
            title={sharing ? "Stop sharing screen" : "Share screen"}
            aria-pressed={sharing}
            onClick={() => void (sharing ? client.stopScreenShare() : client.startScreenShare())}
          >
            <Icon name="screen" />
          </button>
        )}
        <div className="popover-anchor">
          <button type="button" className={`ctl${settings ? " active" : ""}`} aria-label="Device settings" title="Device settings" aria-expanded={settings} onClick={() => setSettings(!settings)}>
            <Icon name="settings" />
          </button>
          {settings && (
            <div className="popover" role="dialog" aria-label="Device settings">
              <DeviceSelect />
              <button type="button" className="btn btn-secondary btn-small" onClick={() => setSettings(false)}>
                Done
              </button>
            </div>
          )}
        </div>
      </div>
      <div className="controls-group">
        <button
          type="button"
          className={`ctl${view === "speaker" ? " active" : ""} hide-narrow`}
          aria-label={view === "grid" ? "Switch to speaker view" : "Switch to grid view"}
          title={view === "grid" ? "Speaker view" : "Grid view"}
          onClick={() => onView(view === "grid" ? "speaker" : "grid")}
        >
          <Icon name={view === "grid" ? "speaker" : "grid"} />
        </button>
        <button type="button" className={`ctl${panel === "people" ? " active" : ""}`} aria-label={`Participants (${count})`} title="Participants" aria-pressed={panel === "people"} onClick={() => onPanel(panel === "people" ? null : "people")}>
          <Icon name="people" />
          <span className="ctl-count">{count}</span>
        </button>
        <button
          type="button"
          className={`ctl${panel === "chat" ? " active" : ""}`}
          aria-label={unread ? `Chat (${unread} unread)` : "Chat"}
          title="Chat"
          aria-pressed={panel === "chat"}
          onClick={() => onPanel(panel === "chat" ? null : "chat")}
        >
          <Icon name="chat" />
          {unread > 0 && (
            <span className="badge" data-testid="chat-unread">
              {unread > 99 ? "99+" : unread}
            </span>
          )}
        </button>
      </div>
      <div className="controls-group">
        <button type="button" className="ctl leave" aria-label="Leave meeting" title="Leave meeting" onClick={onLeave}>
          <Icon name="leave" />
        </button>
        {isHost && (
          <button type="button" className="btn btn-danger end-btn" aria-label="End meeting for everyone" title="End meeting for everyone" onClick={onEnd}>
            End<span className="hide-narrow">for everyone</span>
          </button>
        )}
      </div>
    </div>
  );
}
