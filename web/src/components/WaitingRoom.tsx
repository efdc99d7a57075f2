import { useWebSocket } from "../hooks/useWebSocket";
import { Brand } from "./Layout";
import { PreviewTile } from "./PreJoin";

/**
 * In the meeting's lobby: nothing of the meeting but its title until a host lets us in (the
 * room follows by itself). The camera preview stays, so we arrive as we chose.
 */
export function WaitingRoom({ title, onCancel }: { title: string; onCancel: () => void }) {
  const { state: ws } = useWebSocket();
  return (
    <div className="center-page">
      <Brand />
      <main className="card center-card waiting-card" data-testid="lobby-waiting" aria-labelledby="waiting-title">
        <PreviewTile />
        <h1 id="waiting-title">Waiting for the host to let you in</h1>
        <p>
          <strong>{title || "Meeting"}</strong>
        </p>
        <p className="muted-text waiting-note" role="status">
          <span className="spinner" aria-hidden="true" />
          {ws.status === "reconnecting" ? "Reconnecting… you'll keep waiting once back." : "You'll join as soon as a host admits you."}
        </p>
        <div className="center-actions">
          <button type="button" className="btn btn-secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </main>
    </div>
  );
}
