import type { MeetingParticipant, Page } from "./api";

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

/** Who attended, each once (a reconnect or a second session is a second row), in order of first arrival. */
export function attendees(rows: Page<MeetingParticipant> | MeetingParticipant[]): string[] {
  const list = Array.isArray(rows) ? rows : rows.items;
  const first = new Map<number, { name: string; at: number }>();
  for (const r of list) {
    const at = new Date(r.joined_at).getTime();
    const seen = first.get(r.user_id);
    if (!seen || at < seen.at) first.set(r.user_id, { name: r.name ?? `User ${r.user_id}`, at });
  }
  return [...first.values()].sort((a, b) => a.at - b.at).map((x) => x.name);
}
