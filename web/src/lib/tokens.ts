/**
 * Where the session's tokens live.
 *
 * localStorage, not sessionStorage: a meeting link opened in a new tab (the normal way to use an
 * invite) must find the session, and a reload must not log the user out. The cost is that any
 * script running on our origin could read the tokens, so the app renders no untrusted HTML, and
 * refresh tokens rotate with reuse detection on the server, which limits what a stolen one is worth.
 * Tabs share the tokens; a refresh in one tab is seen by the others through the `storage` event,
 * and refreshes are serialised across tabs (see AuthSession) so that two tabs never present the
 * same refresh token twice (which the server would treat as theft and kill the session family).
 */
export interface User {
  id: number;
  email: string;
  name: string;
  created_at: string;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  /** Epoch ms when the access token expires, if known (JWT `exp` or `expires_in`). */
  access_expires_at: number | null;
}

export interface StoredSession extends Tokens {
  user: User | null;
}

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const SESSION_KEY = "mm.session";

/** Decode a JWT's `exp` claim (seconds) into epoch ms; null for opaque tokens. */
export function jwtExpiry(token: string): number | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
    const json = JSON.parse(atob(padded)) as { exp?: unknown };
    return typeof json.exp === "number" ? json.exp * 1000 : null;
  } catch {
    return null;
  }
}

export class TokenStore {
  constructor(
    private readonly storage: KeyValueStorage | null,
    private readonly key = SESSION_KEY,
  ) {}

  load(): StoredSession | null {
    if (!this.storage) return null;
    try {
      const raw = this.storage.getItem(this.key);
      if (!raw) return null;
      const v = JSON.parse(raw) as Partial<StoredSession>;
      if (typeof v.access_token !== "string" || typeof v.refresh_token !== "string") return null;
      return {
        access_token: v.access_token,
        refresh_token: v.refresh_token,
        access_expires_at: typeof v.access_expires_at === "number" ? v.access_expires_at : jwtExpiry(v.access_token),
        user: v.user ?? null,
      };
    } catch {
      return null;
    }
  }

  save(session: StoredSession): void {
    this.storage?.setItem(this.key, JSON.stringify(session));
  }

  clear(): void {
    this.storage?.removeItem(this.key);
  }
}

export function browserStorage(): KeyValueStorage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}
