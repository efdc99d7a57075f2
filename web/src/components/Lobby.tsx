import { initials, nameHue } from "../lib/api";
import { useHostRights } from "../hooks/useHostRights";
import { useMeeting, useMeetingClient } from "../hooks/useMeeting";
import { lobbyAlertText } from "../meeting/lobby";
import { GuestBadge } from "./GuestsToggle";
import { Icon } from "./Icon";

/**
 * Hosts' and co-hosts' view of the lobby, at the top of the participant panel: who waits, in
 * order of arrival, with Admit and Deny each and Admit all. Nothing while nobody waits.
 */
export function WaitingList() {
  const client = useMeetingClient();
  const waiting = useMeeting((s) => s.lobby);
  const rights = useHostRights();
  if (!rights || waiting.length === 0) return null;
  return (
    <section className="lobby" aria-labelledby="lobby-title" data-testid="lobby-list">
      <div className="lobby-head">
        <h3 id="lobby-title">Waiting ({waiting.length})</h3>
        <button type="button" className="btn btn-primary btn-small" onClick={() => client.admitAll()}>
          Admit all
        </button>
      </div>
      <ul className="lobby-people">
        {waiting.map((w) => (
          <li key={w.lobby_id} className="person" data-testid="waiting-person" data-name={w.name}>
            <span className="person-avatar" style={{ ["--hue" as string]: String(nameHue(w.name)) }} aria-hidden="true">
              {initials(w.name)}
            </span>
            <span className="person-name">{w.name}</span>
            {w.is_guest && <GuestBadge />}
            <button type="button" className="btn btn-primary btn-small" aria-label={`Admit ${w.name}`} onClick={() => client.admit(w.lobby_id)}>
              Admit
            </button>
            <button type="button" className="btn btn-secondary btn-small" aria-label={`Deny ${w.name}`} onClick={() => client.deny(w.lobby_id)}>
              Deny
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The lobby on or off, beside the lock; off lets everyone waiting in. */
export function LobbyToggle() {
  const client = useMeetingClient();
  const rights = useHostRights();
  const lobby = useMeeting((s) => !!s.meeting?.lobby);
  if (!rights) return null;
  const label = lobby ? "Turn off the lobby (admits everyone waiting)" : "Turn on the lobby (newcomers wait to be admitted)";
  return (
    <button
      type="button"
      className={`btn btn-small ${lobby ? "btn-warn" : "btn-secondary"}`}
      aria-label={lobby ? "Turn off the lobby" : "Turn on the lobby"}
      title={label}
      aria-pressed={lobby}
      data-testid="lobby-toggle"
      onClick={() => client.setLobby(!lobby)}
    >
      Lobby{lobby ? " on" : ""}
    </button>
  );
}

/** "Ada is waiting to join" when someone arrives in the lobby, with Admit and a way to the list. */
export function LobbyAlert({ onShow }: { onShow: () => void }) {
  const client = useMeetingClient();
  const alert = useMeeting((s) => s.lobbyAlert);
  const count = useMeeting((s) => s.lobby.length);
  if (!alert) return null;
  return (
    <div className="toast" role="status" data-testid="lobby-alert">
      <span>{lobbyAlertText(alert, count)}</span>
      <button type="button" className="btn btn-primary btn-small" onClick={() => client.admit(alert.lobby_id)}>
        Admit
      </button>
      <button
        type="button"
        className="btn btn-secondary btn-small"
        onClick={() => {
          client.dismissLobbyAlert();
          onShow();
        }}
      >
        View
      </button>
      <button type="button" className="icon-btn" aria-label="Dismiss" onClick={() => client.dismissLobbyAlert()}>
        <Icon name="close" size={16} />
      </button>
    </div>
  );
}
