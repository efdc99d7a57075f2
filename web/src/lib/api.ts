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
  /** Newcomers wait in the lobby until a host or co-host admits them. */
  lobby: boolean;
  /** People without an account may join by the link (as guests, through the lobby). */
  allow_guests?: boolean;
}

/** One page of `GET /api/meetings`, newest first. */
export interface MeetingPage {
  items: Meeting[];
  /** The offset of the next page; null on the last one. */
  next_offset: number | null;
}

/** One stay of a user in a meeting (`GET /api/meetings/{code}/participants`); a reconnect or a second tab is another row. */
export interface MeetingParticipant {
  user_id: number;
  name: string;
  joined_at: string;
  left_at: string | null;
}

export const meetingsApi = {
  /** With `lobby`, newcomers wait until a host or co-host lets them in. */
  create: (s: AuthSession, title: string, lobby = false, allowGuests = false) =>
    s.request<Meeting>("/api/meetings", {
      method: "POST",
      body: { title, ...(lobby ? { lobby: true } : {}), ...(allowGuests ? { allow_guests: true } : {}) },
    }),
  list: (s: AuthSession, limit = 20, offset = 0) => s.request<MeetingPage>(`/api/meetings?limit=${limit}&offset=${offset}`),
  get: (s: AuthSession, code: string) => s.request<Meeting>(`/api/meetings/${encodeURIComponent(code)}`),
  end: (s: AuthSession, code: string) => s.request<unknown>(`/api/meetings/${encodeURIComponent(code)}/end`, { method: "POST" }),
  participants: (s: AuthSession, code: string) => s.request<MeetingParticipant[]>(`/api/meetings/${encodeURIComponent(code)}/participants`),
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
