import { useEffect, useRef, useState } from "react";
import { useDismiss } from "../hooks/useDismiss";
import { isMacPlatform, matchShortcut, shortcutLabel } from "../lib/shortcuts";
import { useMeeting, useMeetingClient } from "../hooks/useMeeting";
import { useWebRTC } from "../hooks/useWebRTC";
import { REACTIONS } from "../meeting/moderation";
import { DeviceSelect } from "./DeviceSelect";
import { Icon } from "./Icon";
import type { ViewMode } from "./VideoGrid";

export type Panel = "chat" | "people" | null;

const MAC = typeof navigator !== "undefined" && isMacPlatform(navigator.platform || navigator.userAgent);

/** Raise or lower our own hand; pressed once the server says it is up. */
function HandButton() {
  const client = useMeetingClient();
  const raised = useMeeting((s) => s.me?.raised_hand !== undefined);
  const label = raised ? "Lower hand" : "Raise hand";
  return (
    <button type="button" className={`ctl${raised ? " active" : ""}`} aria-label={label} title={label} aria-pressed={raised} onClick={() => client.raiseHand(!raised)}>
      <Icon name="hand" />
    </button>
  );
}

/** The eight reactions; the picker stays open for another until Escape or a click elsewhere. */
function ReactionsButton() {
  const client = useMeetingClient();
  const [open, setOpen] = useState(false);
  const anchor = useRef<HTMLDivElement>(null);
  useDismiss(open, [anchor], () => setOpen(false));
  return (
    <div className="popover-anchor hide-narrow" ref={anchor}>
      <button type="button" className={`ctl${open ? " active" : ""}`} aria-label="Reactions" title="Reactions" aria-expanded={open} onClick={() => setOpen(!open)}>
        <Icon name="smile" />
      </button>
      {open && (
        <div className="popover reactions-popover" role="group" aria-label="Send a reaction">
          {REACTIONS.map((emoji) => (
            <button key={emoji} type="button" className="reaction-btn" aria-label={`React ${emoji}`} title={`React ${emoji}`} onClick={() => client.sendReaction(emoji)}>
              {emoji}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

export function Controls({
  canEnd,
  panel,
  onPanel,
  view,
  onView,
  onLeave,
  onEnd,
}: {
  /** The host and co-hosts may end the meeting for everyone. */
  canEnd: boolean;
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
  // Only hosts and co-hosts hear of the lobby.
  const waiting = useMeeting((s) => s.lobby.length);
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
        <HandButton />
        <ReactionsButton />
        <button
          type="button"
          className={`ctl${view === "speaker" ? " active" : ""} hide-narrow`}
          aria-label={view === "grid" ? "Switch to speaker view" : "Switch to grid view"}
          title={view === "grid" ? "Speaker view" : "Grid view"}
          onClick={() => onView(view === "grid" ? "speaker" : "grid")}
        >
          <Icon name={view === "grid" ? "speaker" : "grid"} />
        </button>
        <button
          type="button"
          className={`ctl${panel === "people" ? " active" : ""}`}
          aria-label={waiting ? `Participants (${count}, ${waiting} waiting)` : `Participants (${count})`}
          title="Participants"
          aria-pressed={panel === "people"}
          onClick={() => onPanel(panel === "people" ? null : "people")}
        >
          <Icon name="people" />
          <span className="ctl-count">{count}</span>
          {waiting > 0 && (
            <span className="badge badge-warn" data-testid="lobby-badge" title={`${waiting} waiting in the lobby`}>
              {waiting > 99 ? "99+" : waiting}
            </span>
          )}
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
        {canEnd && (
          <button type="button" className="btn btn-danger end-btn" aria-label="End meeting for everyone" title="End meeting for everyone" onClick={onEnd}>
            End<span className="hide-narrow">for everyone</span>
          </button>
        )}
      </div>
    </div>
  );
}
