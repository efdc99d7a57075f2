import type { LobbyEntry } from "../protocol";

/**
 * Whom to announce after a `lobby_updated`: the latest newcomer (an id not in `prev`), else
 * the one announced already while it still waits, else nobody.
 */
export function lobbyAlertAfter(prev: readonly LobbyEntry[], alert: LobbyEntry | null, next: readonly LobbyEntry[]): LobbyEntry | null {
  const known = new Set(prev.map((w) => w.lobby_id));
  const newcomer = next.findLast((w) => !known.has(w.lobby_id));
  if (newcomer) return newcomer;
  return alert && next.some((w) => w.lobby_id === alert.lobby_id) ? alert : null;
}

/** The announcement: "Ada is waiting to join", or with how many others wait too. */
export function lobbyAlertText(alert: LobbyEntry, waiting: number): string {
  const others = waiting - 1;
  if (others <= 0) return `${alert.name} is waiting to join`;
  return `${alert.name} and ${others} ${others === 1 ? "other" : "others"} are waiting to join`;
}
