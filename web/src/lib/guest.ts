import type { Meeting } from "./api";
import { ApiError, AuthSession } from "./auth";
import { jwtExpiry, type KeyValueStorage, type TokenStore, type User } from "./tokens";

/**
 * Joining a meeting without an account, by its link (`POST /api/meetings/{code}/guests`).
 *
 * A guest token works only for that meeting's signaling (the REST API answers it 401) and has no
 * refresh token. It is kept apart from a signed-in user's session: in sessionStorage (this tab
 * only, survives a reload), one entry per meeting code, never in the `mm.session` entry.
 */
export interface GuestGrant {
  code: string;
  access_token: string;
  /** Epoch ms when the token expires, if known. */
  expires_at: number | null;
  user: User;
  /** The meeting as the guests endpoint returned it: a guest cannot GET /api/meetings/{code}. */
  meeting: Meeting;
}

interface GuestResponse {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  user: User;
  meeting: Meeting;
}

const KEY_PREFIX = "mm.guest.";
const NAME_KEY = "mm.guest.name";
export const GUEST_NAME_MAX = 100;

export function guestKey(code: string): string {
  return KEY_PREFIX + code;
}

/** The guest tokens of this tab, per meeting code (sessionStorage by default). */
export class GuestStore {
  constructor(
    private readonly storage: KeyValueStorage | null,
    private readonly now: () => number = Date.now,
  ) {}

  /** The grant for `code`, or null when there is none or it has expired (then it is dropped). */
  load(code: string): GuestGrant | null {
    if (!this.storage) return null;
    try {
      const raw = this.storage.getItem(guestKey(code));
      if (!raw) return null;
      const g = JSON.parse(raw) as Partial<GuestGrant>;
      if (typeof g.access_token !== "string" || !g.user || !g.meeting || g.code !== code) {
        this.clear(code);
        return null;
      }
      const grant: GuestGrant = {
        code,
        access_token: g.access_token,
        expires_at: typeof g.expires_at === "number" ? g.expires_at : jwtExpiry(g.access_token),
        user: g.user,
        meeting: g.meeting,
      };
      if (grant.expires_at !== null && grant.expires_at <= this.now()) {
        this.clear(code);
        return null;
      }
      return grant;
    } catch {
      return null;
    }
  }

  save(grant: GuestGrant): void {
    try {
      this.storage?.setItem(guestKey(grant.code), JSON.stringify(grant));
      this.storage?.setItem(NAME_KEY, grant.user.name);
    } catch {
      /* storage full or denied: the grant lives in memory only */
    }
  }

  clear(code: string): void {
    try {
      this.storage?.removeItem(guestKey(code));
    } catch {
      /* ignore */
    }
  }

  /** The name this tab last joined with as a guest, to fill the form in again. */
  lastName(): string {
    try {
      return this.storage?.getItem(NAME_KEY) ?? "";
    } catch {
      return "";
    }
  }
}

export function sessionStorageOrNull(): KeyValueStorage | null {
  try {
    return typeof sessionStorage === "undefined" ? null : sessionStorage;
  } catch {
    return null;
  }
}

/** The store the app uses (this tab's sessionStorage). */
export function browserGuestStore(): GuestStore {
  return new GuestStore(sessionStorageOrNull());
}

/** A reason the name cannot be sent, or null when it is fine (1-100 characters once trimmed). */
export function validateGuestName(name: string): string | null {
  const n = [...name.trim()].length;
  if (n === 0) return "Enter your name.";
  if (n > GUEST_NAME_MAX) return `Use at most ${GUEST_NAME_MAX} characters.`;
  return null;
}

export interface GuestProblem {
  message: string;
  /** The meeting does not let guests in: offer to sign in or register instead. */
  needsAccount: boolean;
}

/** What to tell someone whose guest join failed. */
export function explainGuestError(e: unknown): GuestProblem {
  if (!(e instanceof ApiError)) return { message: "Something went wrong. Please try again.", needsAccount: false };
  switch (e.code) {
    case "guests_not_allowed":
      return { message: "This meeting needs an account — sign in or register.", needsAccount: true };
    case "meeting_ended":
      return { message: "This meeting has ended.", needsAccount: false };
    case "meeting_not_found":
    case "not_found":
      return { message: "There is no meeting with this code. Check the link or ask the host for a new one.", needsAccount: false };
    case "rate_limited":
      return { message: "Too many guests joined from your network. Please wait a while and try again.", needsAccount: false };
    case "validation_failed":
      return { message: `Enter a name of 1 to ${GUEST_NAME_MAX} characters.`, needsAccount: false };
  }
  if (e.status === 403) return { message: "This meeting needs an account — sign in or register.", needsAccount: true };
  if (e.status === 404) return { message: "There is no meeting with this code. Check the link or ask the host for a new one.", needsAccount: false };
  if (e.status === 409) return { message: "This meeting has ended.", needsAccount: false };
  if (e.status === 429) return { message: "Too many guests joined from your network. Please wait a while and try again.", needsAccount: false };
  if (e.status === 0) return { message: e.message, needsAccount: false };
  return { message: e.message || "Could not join as a guest.", needsAccount: false };
}

/** Asks for a guest token for `code` (no Authorization header: a guest has no account). */
export async function requestGuestGrant(
  code: string,
  name: string,
  opts: { fetch?: typeof fetch; now?: () => number; baseUrl?: string } = {},
): Promise<GuestGrant> {
  const fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  const now = opts.now ?? Date.now;
  let res: Response;
  try {
    res = await fetchFn(`${opts.baseUrl ?? ""}/api/meetings/${encodeURIComponent(code)}/guests`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ name: name.trim() }),
    });
  } catch {
    throw new ApiError(0, "network", "Cannot reach the server. Check your connection.");
  }
  if (!res.ok) {
    let errCode = `http_${res.status}`;
    let message = res.statusText || `HTTP ${res.status}`;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      if (body?.error?.code) errCode = body.error.code;
      if (body?.error?.message) message = body.error.message;
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, errCode, message);
  }
  const body = (await res.json()) as GuestResponse;
  return {
    code,
    access_token: body.access_token,
    expires_at: typeof body.expires_in === "number" ? now() + body.expires_in * 1000 : jwtExpiry(body.access_token),
    user: body.user,
    meeting: body.meeting,
  };
}

const noStorage = { load: () => null, save: () => undefined, clear: () => undefined };

/**
 * A guest's stand-in for the signed-in session inside the meeting page, so that everything that
 * reads `useAuth()` (our name, our tiles, the signaling token) works for a guest too. It never
 * touches the stored user session, never refreshes (there is no refresh token: an expired grant
 * means asking for a new one), and refuses REST requests (the API would answer 401 anyway).
 */
export class GuestSession extends AuthSession {
  readonly grant: GuestGrant;
  private readonly clock: () => number;

  constructor(grant: GuestGrant, now: () => number = Date.now) {
    // TokenStore's shape, backed by nothing: the user session in localStorage stays as it is.
    super({ store: noStorage as unknown as TokenStore, now });
    this.grant = grant;
    this.clock = now;
    this.state.set({ user: grant.user });
  }

  override get isAuthenticated(): boolean {
    return false;
  }

  override syncFromStorage(): void {
    /* the user session of other tabs is not ours */
  }

  override async accessToken(): Promise<string> {
    if (this.grant.expires_at !== null && this.grant.expires_at <= this.clock()) {
      throw new ApiError(401, "token_expired", "Your guest pass has expired. Join again as a guest.");
    }
    return this.grant.access_token;
  }

  override refresh(): Promise<string> {
    return Promise.reject(new ApiError(401, "unauthenticated", "A guest pass cannot be refreshed. Join again as a guest."));
  }

  override request<T>(path: string): Promise<T> {
    return Promise.reject(new ApiError(401, "guest", `A guest cannot call ${path}.`));
  }

  override async loadMe(): Promise<User> {
    return this.grant.user;
  }

  override async logout(): Promise<void> {
    /* nothing stored as a user session */
  }

  override login(): Promise<User> {
    return Promise.reject(new ApiError(400, "guest", "Leave the guest meeting to sign in."));
  }

  override register(): Promise<User> {
    return Promise.reject(new ApiError(400, "guest", "Leave the guest meeting to register."));
  }
}

/** The page that asks a guest's name for `code` again (the sign-in page's guest tab). */
export function guestJoinPath(code: string): string {
  return `/login?next=${encodeURIComponent(`/meeting/${code}`)}&guest=1`;
}
