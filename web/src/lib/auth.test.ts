import { describe, expect, it, vi } from "vitest";
import { ApiError, AuthSession, REGISTER_SIGN_IN_FAILED, type LockFn } from "./auth";
import { TokenStore, jwtExpiry, type KeyValueStorage } from "./tokens";

class MemStorage implements KeyValueStorage {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
}

function jwt(expSeconds: number, sub = "1"): string {
  const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${b64({ alg: "HS256" })}.${b64({ sub, exp: expSeconds })}.sig`;
}

function json(status: number, body: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

const user = { id: 1, email: "a@example.com", name: "Ada", created_at: "2026-01-01T00:00:00Z" };
const NOW = 1_800_000_000_000;

function setup(opts: { access?: string; refresh?: string; lock?: LockFn } = {}) {
  const storage = new MemStorage();
  const store = new TokenStore(storage);
  if (opts.access) store.save({ access_token: opts.access, refresh_token: opts.refresh ?? "r1", access_expires_at: jwtExpiry(opts.access), user });
  const fetchMock = vi.fn<typeof fetch>();
  const session = new AuthSession({ store, fetch: fetchMock, now: () => NOW, lock: opts.lock });
  return { storage, store, fetchMock, session };
}

describe("jwtExpiry", () => {
  it("reads exp from a JWT and ignores opaque tokens", () => {
    expect(jwtExpiry(jwt(100))).toBe(100_000);
    expect(jwtExpiry("opaque-token")).toBeNull();
    expect(jwtExpiry("a.!!!.c")).toBeNull();
  });
});

describe("AuthSession", () => {
  it("logs in and stores the session", async () => {
    const { session, fetchMock, store } = setup();
    fetchMock.mockResolvedValueOnce(json(200, { user, access_token: "a1", refresh_token: "r1" }));
    await session.login("a@example.com", "pw");
    expect(session.user).toEqual(user);
    expect(store.load()?.refresh_token).toBe("r1");
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe("/api/auth/login");
    expect(JSON.parse(String(init?.body))).toEqual({ email: "a@example.com", password: "pw" });
  });

  it("registers, then signs in with the same credentials", async () => {
    const { session, fetchMock, store } = setup();
    fetchMock.mockResolvedValueOnce(json(202, { status: "accepted" }));
    fetchMock.mockResolvedValueOnce(json(200, { user, access_token: "a1", refresh_token: "r1" }));
    await expect(session.register("a@example.com", "pw-long-enough", "Ada")).resolves.toEqual(user);
    expect(session.user).toEqual(user);
    expect(store.load()?.access_token).toBe("a1");
    const calls = fetchMock.mock.calls.map(([url, init]) => [url, JSON.parse(String(init?.body))]);
    expect(calls).toEqual([
      ["/api/auth/register", { email: "a@example.com", password: "pw-long-enough", name: "Ada" }],
      ["/api/auth/login", { email: "a@example.com", password: "pw-long-enough" }],
    ]);
  });

  it("explains a failed sign-in after registering (the address may be taken)", async () => {
    const { session, fetchMock, store } = setup();
    fetchMock.mockResolvedValueOnce(json(202, { status: "accepted" }));
    fetchMock.mockResolvedValueOnce(json(401, { error: { code: "invalid_credentials", message: "Wrong email or password" } }));
    await expect(session.register("a@example.com", "pw-long-enough", "Ada")).rejects.toMatchObject({
      status: 401,
      code: "invalid_credentials",
      message: REGISTER_SIGN_IN_FAILED,
    });
    expect(session.user).toBeNull();
    expect(store.load()).toBeNull();
  });

  it("passes registration errors through without signing in", async () => {
    const { session, fetchMock } = setup();
    fetchMock.mockResolvedValueOnce(json(422, { error: { code: "validation_failed", message: "password is too common" } }));
    await expect(session.register("a@example.com", "password", "Ada")).rejects.toMatchObject({
      status: 422,
      code: "validation_failed",
      message: "password is too common",
    });
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it("turns error bodies into ApiError with the server's code", async () => {
    const { session, fetchMock } = setup();
    fetchMock.mockResolvedValueOnce(json(401, { error: { code: "invalid_credentials", message: "Wrong email or password" } }));
    await expect(session.login("a@example.com", "bad")).rejects.toMatchObject({ status: 401, code: "invalid_credentials" });
    expect(session.user).toBeNull();
  });

  it("refreshes once for concurrent 401 token_expired responses and retries each request", async () => {
    const { session, fetchMock, store } = setup({ access: "old", refresh: "r1" });
    let refreshes = 0;
    fetchMock.mockImplementation(async (input, init) => {
      const url = String(input);
      if (url === "/api/auth/refresh") {
        refreshes++;
        expect(JSON.parse(String(init?.body))).toEqual({ refresh_token: "r1" });
        await new Promise((r) => setTimeout(r, 5));
        return json(200, { access_token: "new", refresh_token: "r2" });
      }
      const auth = (init?.headers as Record<string, string>).Authorization;
      if (auth === "Bearer old") return json(401, { error: { code: "token_expired", message: "expired" } });
      return json(200, { ok: url });
    });
    const results = await Promise.all([session.request("/api/a"), session.request("/api/b"), session.request("/api/c")]);
    expect(results).toEqual([{ ok: "/api/a" }, { ok: "/api/b" }, { ok: "/api/c" }]);
    expect(refreshes).toBe(1);
    expect(store.load()?.refresh_token).toBe("r2");
  });

  it("refreshes before a request when the access token is about to expire", async () => {
    const soon = jwt(NOW / 1000 + 10); // inside the 30 s margin
    const { session, fetchMock } = setup({ access: soon, refresh: "r1" });
    const fresh = jwt(NOW / 1000 + 900);
    fetchMock.mockResolvedValueOnce(json(200, { access_token: fresh, refresh_token: "r2" }));
    fetchMock.mockResolvedValueOnce(json(200, { id: 1 }));
    await session.request("/api/users/me");
    expect(fetchMock.mock.calls.map((c) => String(c[0]))).toEqual(["/api/auth/refresh", "/api/users/me"]);
    expect((fetchMock.mock.calls[1][1]?.headers as Record<string, string>).Authorization).toBe(`Bearer ${fresh}`);
  });

  it("logs out locally when the refresh token is refused", async () => {
    const { session, fetchMock, store } = setup({ access: "old", refresh: "r1" });
    fetchMock.mockImplementation(async (input) =>
      String(input) === "/api/auth/refresh"
        ? json(401, { error: { code: "invalid_refresh_token", message: "reused" } })
        : json(401, { error: { code: "token_expired", message: "expired" } }),
    );
    await expect(session.request("/api/meetings")).rejects.toBeInstanceOf(ApiError);
    expect(session.user).toBeNull();
    expect(store.load()).toBeNull();
  });

  it("uses a pair another tab already rotated instead of presenting the old refresh token", async () => {
    const { session, fetchMock, store } = setup({ access: "old", refresh: "r1" });
    // Another tab rotated r1 -> r2 and wrote it to storage.
    store.save({ access_token: "other-tab", refresh_token: "r2", access_expires_at: null, user });
    fetchMock.mockImplementation(async (_input, init) => {
      const auth = (init?.headers as Record<string, string>).Authorization;
      return auth === "Bearer old" ? json(401, { error: { code: "token_expired", message: "" } }) : json(200, { auth });
    });
    expect(await session.request("/api/x")).toEqual({ auth: "Bearer other-tab" });
    expect(fetchMock.mock.calls.some((c) => String(c[0]) === "/api/auth/refresh")).toBe(false);
  });

  it("serialises refreshes through the lock", async () => {
    const names: string[] = [];
    const lock: LockFn = async (name, fn) => {
      names.push(name);
      return fn();
    };
    const { session, fetchMock } = setup({ access: "old", refresh: "r1", lock });
    fetchMock.mockResolvedValueOnce(json(200, { access_token: "n", refresh_token: "r2" }));
    await session.refresh();
    expect(names).toEqual(["mm-auth-refresh"]);
  });

  it("logout calls the API with the refresh token and clears the session", async () => {
    const { session, fetchMock, store } = setup({ access: "a", refresh: "r1" });
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 }));
    await session.logout();
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe("/api/auth/logout");
    expect((init?.headers as Record<string, string>).Authorization).toBe("Bearer a");
    expect(JSON.parse(String(init?.body))).toEqual({ refresh_token: "r1" });
    expect(store.load()).toBeNull();
    expect(session.user).toBeNull();
  });
});
