import type { AuthSession } from "./auth";

export type MeetingStatus = "created" | "active" | "paused" | "ended";

export interface Meeting {
  id: number;
  code: string;
  title: string;
  host_id: number;
  status: MeetingStatus;
  started_at: string | null;
  ended_at: string | null;
  created_at: string;
}

export interface Page<T> {
  items: T[];
  total?: number;
  limit?: number;
  offset?: number;
}

export interface MeetingParticipant {
  id: number;
  user_id: number;
  name?: string;
  joined_at: string;
  left_at: string | null;
}

export const meetingsApi = {
  create: (s: AuthSession, title: string) => s.request<Meeting>("/api/meetings", { method: "POST", body: { title } }),
  list: (s: AuthSession, limit = 20, offset = 0) => s.request<Page<Meeting>>(`/api/meetings?limit=${limit}&offset=${offset}`),
  get: (s: AuthSession, code: string) => s.request<Meeting>(`/api/meetings/${encodeURIComponent(code)}`),
  end: (s: AuthSession, code: string) => s.request<unknown>(`/api/meetings/${encodeURIComponent(code)}/end`, { method: "POST" }),
  participants: (s: AuthSession, code: string) =>
    s.request<Page<MeetingParticipant> | MeetingParticipant[]>(`/api/meetings/${encodeURIComponent(code)}/participants`),
};

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return "?";
  return ((parts[0][0] ?? "") + (parts.length > 1 ? (parts[parts.length - 1][0] ?? "") : "")).toUpperCase();
}

/** A stable hue per name for avatars. */
export function nameHue(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 360;
  return h;
}
