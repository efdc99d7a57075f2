import { Store } from "./store";
import { jwtExpiry, type StoredSession, type TokenStore, type User } from "./tokens";

/** An error answered by the REST API (`{"error":{"code","message"}}`) or a network failure. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** Shown when the sign-in right after registering fails: most likely the address was taken. */
export const REGISTER_SIGN_IN_FAILED =
  "Could not sign you in. If this address already has an account, sign in with its password.";

export interface AuthState {
  user: User | null;
}

export type LockFn = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

export interface AuthSessionOptions {
  store: TokenStore;
  fetch?: typeof fetch;
  now?: () => number;
  /** Serialises refreshes across tabs (Web Locks API by default). */
  lock?: LockFn;
  /** Refresh this long before the access token's known expiry. */
  refreshMarginMs?: number;
  baseUrl?: string;
}

interface TokenResponse {
  access_token: string;
  refresh_token: string;
  expires_in?: number;
  user?: User;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Send the bearer token (default true). */
  auth?: boolean;
  signal?: AbortSignal;
}

function defaultLock(): LockFn {
  return async <T,>(name: string, fn: () => Promise<T>): Promise<T> => {
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    if (locks?.request) return locks.request(name, fn) as Promise<T>;
    return fn();
  };
}

async function readError(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body?.error?.code) code = body.error.code;
    if (body?.error?.message) message = body.error.message;
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, code, message);
}

/**
 * The logged-in session: tokens, silent refresh (one in flight at a time, and one at a time across
 * tabs), and an authenticated `request` helper for the REST API.
 */
export class AuthSession {
  readonly state: Store<AuthState>;
  private session: StoredSession | null;
  private refreshing: Promise<string> | null = null;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly lock: LockFn;
  private readonly margin: number;
  private readonly baseUrl: string;
  private readonly store: TokenStore;

  constructor(opts: AuthSessionOptions) {
    this.store = opts.store;
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    this.now = opts.now ?? Date.now;
    this.lock = opts.lock ?? defaultLock();
    this.margin = opts.refreshMarginMs ?? 30_000;
    this.baseUrl = opts.baseUrl ?? "";
    this.session = this.store.load();
    this.state = new Store<AuthState>({ user: this.session?.user ?? null });
  }

  get user(): User | null {
    return this.state.getSnapshot().user;
  }

  get isAuthenticated(): boolean {
    return this.session !== null;
  }

  /** Another tab changed the stored session (the `storage` event). */
  syncFromStorage(): void {
    this.session = this.store.load();
    this.state.set({ user: this.session?.user ?? null });
  }

  /**
   * Registers, then signs in with the same credentials. The server answers registration the same
   * way whether or not the address is taken (no account enumeration), so a taken address shows up
   * only here, as a failed sign-in: reported with {@link REGISTER_SIGN_IN_FAILED}.
   */
  async register(email: string, password: string, name: string): Promise<User> {
    await this.request<unknown>("/api/auth/register", {
      method: "POST",
      body: { email, password, name },
      auth: false,
    });
    try {
      return await this.login(email, password);
    } catch (e) {
      if (e instanceof ApiError && e.code === "invalid_credentials") {
        throw new ApiError(e.status, e.code, REGISTER_SIGN_IN_FAILED);
      }
      throw e;
    }
  }

  async login(email: string, password: string): Promise<User> {
    const res = await this.request<TokenResponse & { user: User }>("/api/auth/login", {
      method: "POST",
      body: { email, password },
      auth: false,
    });
    this.adopt(res, res.user);
    return res.user;
  }

  async logout(): Promise<void> {
    const s = this.session;
    if (s) {
      try {
        await this.fetchFn(this.baseUrl + "/api/auth/logout", {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${s.access_token}` },
          body: JSON.stringify({ refresh_token: s.refresh_token }),
        });
      } catch {
        /* best effort: the local session goes regardless */
      }
    }
    this.clear();
  }

  /** Load the current user from the server (also validates the stored session). */
  async loadMe(): Promise<User> {
    const user = await this.request<User>("/api/users/me");
    if (this.session) {
      this.session = { ...this.session, user };
      this.store.save(this.session);
    }
    this.state.set({ user });
    return user;
  }

  /** A usable access token, refreshed first when it is known to expire soon. */
  async accessToken(): Promise<string> {
    const s = this.session;
    if (!s) throw new ApiError(401, "unauthenticated", "Not logged in");
    if (s.access_expires_at !== null && s.access_expires_at - this.margin <= this.now()) {
      return this.refresh();
    }
    return s.access_token;
  }

  /** Rotate the token pair. Concurrent callers share one request. */
  refresh(): Promise<string> {
    if (this.refreshing) return this.refreshing;
    const used = this.session?.refresh_token;
    const p = this.lock("mm-auth-refresh", async () => {
      // Another tab may have rotated the pair while we waited for the lock: use its result.
      const latest = this.store.load();
      if (latest && used && latest.refresh_token !== used) {
        this.session = latest;
        this.state.set({ user: latest.user ?? this.user });
        if (latest.access_expires_at === null || latest.access_expires_at - this.margin > this.now()) {
          return latest.access_token;
        }
      }
      const current = this.session;
      if (!current) throw new ApiError(401, "unauthenticated", "Not logged in");
      let res: Response;
      try {
        res = await this.fetchFn(this.baseUrl + "/api/auth/refresh", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: current.refresh_token }),
        });
      } catch (e) {
        throw new ApiError(0, "network", e instanceof Error ? e.message : "Network error");
      }
      if (!res.ok) {
        const err = await readError(res);
        if (res.status === 401 || res.status === 400 || res.status === 403) this.clear();
        throw err;
      }
      const body = (await res.json()) as TokenResponse;
      this.adopt(body, body.user ?? current.user);
      return body.access_token;
    });
    this.refreshing = p.finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** JSON request to the REST API; on 401 `token_expired` refreshes once and retries. */
  async request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.doRequest<T>(path, opts, true);
  }

  private async doRequest<T>(path: string, opts: RequestOptions, mayRetry: boolean): Promise<T> {
    const auth = opts.auth ?? true;
    const headers: Record<string, string> = { Accept: "application/json" };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    let sentToken: string | null = null;
    if (auth) {
      sentToken = await this.accessToken();
      headers.Authorization = `Bearer ${sentToken}`;
    }
    let res: Response;
    try {
      res = await this.fetchFn(this.baseUrl + path, {
        method: opts.method ?? "GET",
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
      });
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new ApiError(0, "network", "Cannot reach the server. Check your connection.");
    }
    if (res.ok) {
      if (res.status === 204) return undefined as T;
      const text = await res.text();
      return (text ? JSON.parse(text) : undefined) as T;
    }
    const err = await readError(res);
    if (auth && res.status === 401) {
      if (err.code === "token_expired" && mayRetry) {
        // If another caller already rotated the pair, just retry with the new token.
        if (this.session && this.session.access_token === sentToken) await this.refresh();
        return this.doRequest<T>(path, opts, false);
      }
      this.clear();
    }
    throw err;
  }

  private adopt(res: TokenResponse, user: User | null): void {
    const expires =
      typeof res.expires_in === "number" ? this.now() + res.expires_in * 1000 : jwtExpiry(res.access_token);
    this.session = {
      access_token: res.access_token,
      refresh_token: res.refresh_token,
      access_expires_at: expires,
      user,
    };
    this.store.save(this.session);
    this.state.set({ user });
  }

  private clear(): void {
    this.session = null;
    this.store.clear();
    this.state.set({ user: null });
  }
}
