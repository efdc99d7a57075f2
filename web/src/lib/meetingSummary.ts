import { formatDateTime, type Meeting, type MeetingParticipant } from "./api";

/** A meeting's length for the dashboard: "under a minute", "42 min", "1 h 05 min"; "" when unknown. */
export function formatDuration(startIso: string | null, endIso: string | null): string {
  if (!startIso || !endIso) return "";
  const ms = new Date(endIso).getTime() - new Date(startIso).getTime();
  if (!Number.isFinite(ms) || ms < 0) return "";
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return "under a minute";
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** Who attended, each once (a reconnect or a second tab is another row), in order of first arrival. */
export function attendees(rows: MeetingParticipant[]): string[] {
  const first = new Map<number, { name: string; at: number }>();
  for (const r of rows) {
    const at = new Date(r.joined_at).getTime();
    const seen = first.get(r.user_id);
    if (!seen || at < seen.at) first.set(r.user_id, { name: r.name, at });
  }
  return [...first.values()].sort((a, b) => a.at - b.at).map((x) => x.name);
}

/** "2 people: Ada, Bo", "1 person: Ada", or that nobody came. */
export function attendeeSummary(names: string[]): string {
  if (names.length === 0) return "Nobody joined";
  return `${names.length} ${names.length === 1 ? "person" : "people"}: ${names.join(", ")}`;
}

/** The ended page's line for a meeting found already over: when it ended and how long it lasted; "" when unknown. */
export function endedNote(m: Pick<Meeting, "started_at" | "ended_at">): string {
  const when = formatDateTime(m.ended_at);
  if (!when) return "";
  const lasted = formatDuration(m.started_at, m.ended_at);
  return lasted ? `It ended ${when} and lasted ${lasted}.` : `It ended ${when}.`;
}
