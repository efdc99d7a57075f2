import { describe, expect, it, vi } from "vitest";
import type { Meeting } from "./api";
import { ApiError } from "./auth";
import {
  explainGuestError,
  GuestSession,
  GuestStore,
  guestJoinPath,
  guestKey,
  requestGuestGrant,
  validateGuestName,
  type GuestGrant,
} from "./guest";
import { SESSION_KEY, type KeyValueStorage } from "./tokens";

function memoryStorage(init: Record<string, string> = {}): KeyValueStorage & { data: Record<string, string> } {
  const data = { ...init };
  return {
    data,
    getItem: (k) => (k in data ? data[k] : null),
    setItem: (k, v) => {
      data[k] = v;
    },
    removeItem: (k) => {
      delete data[k];
    },
  };
}

const meeting: Meeting = {
  id: 7,
  code: "abc-defg-hij",
  title: "Standup",
  host_id: 1,
  status: "active",
  started_at: null,
  ended_at: null,
  created_at: "2024-01-01T00:00:00Z",
  lobby: false,
  allow_guests: true,
};
const user = { id: 99, email: "guest-99@guest.invalid", name: "Grace", created_at: "2024-01-01T00:00:00Z" };

function grant(over: Partial<GuestGrant> = {}): GuestGrant {
  return { code: meeting.code, access_token: "guest-token", expires_at: 10_000, user, meeting, ...over };
}

describe("GuestStore", () => {
  it("keeps one grant per meeting code, apart from the user session", () => {
    const storage = memoryStorage({ [SESSION_KEY]: '{"access_token":"user","refresh_token":"r"}' });
    const store = new GuestStore(storage, () => 1000);
    store.save(grant());
    expect(store.load(meeting.code)).toEqual(grant());
    expect(store.load("other-code")).toBeNull();
    expect(storage.data[SESSION_KEY]).toBe('{"access_token":"user","refresh_token":"r"}');
    expect(Object.keys(storage.data)).toContain(guestKey(meeting.code));
    expect(store.lastName()).toBe("Grace");
  });

  it("drops an expired grant", () => {
    const storage = memoryStorage();
    let now = 1000;
    const store = new GuestStore(storage, () => now);
    store.save(grant({ expires_at: 5000 }));
    now = 5000;
    expect(store.load(meeting.code)).toBeNull();
    expect(storage.data[guestKey(meeting.code)]).toBeUndefined();
  });

  it("ignores broken or foreign entries, and clears one code only", () => {
    const storage = memoryStorage({ [guestKey("x-y")]: "{not json", [guestKey("a-b")]: JSON.stringify({ ...grant(), code: "c-d" }) });
    const store = new GuestStore(storage, () => 0);
    expect(store.load("x-y")).toBeNull();
    expect(store.load("a-b")).toBeNull();
    store.save(grant());
    store.save(grant({ code: "other-one" }));
    store.clear(meeting.code);
    expect(store.load(meeting.code)).toBeNull();
    expect(store.load("other-one")).not.toBeNull();
  });

  it("works without storage", () => {
    const store = new GuestStore(null);
    store.save(grant());
    expect(store.load(meeting.code)).toBeNull();
    expect(store.lastName()).toBe("");
  });
});

describe("validateGuestName", () => {
  it("wants 1 to 100 characters once trimmed", () => {
    expect(validateGuestName("   ")).toMatch(/name/i);
    expect(validateGuestName(" Grace ")).toBeNull();
    expect(validateGuestName("x".repeat(100))).toBeNull();
    expect(validateGuestName("x".repeat(101))).toMatch(/100/);
    expect(validateGuestName("é".repeat(100))).toBeNull();
  });
});

describe("explainGuestError", () => {
  it("maps the guests endpoint's errors", () => {
    expect(explainGuestError(new ApiError(403, "guests_not_allowed", "x"))).toEqual({
      message: "This meeting needs an account — sign in or register.",
      needsAccount: true,
    });
    expect(explainGuestError(new ApiError(409, "meeting_ended", "x")).message).toBe("This meeting has ended.");
    expect(explainGuestError(new ApiError(404, "meeting_not_found", "x")).message).toMatch(/no meeting/);
    expect(explainGuestError(new ApiError(429, "rate_limited", "x")).message).toMatch(/Too many guests/);
    expect(explainGuestError(new ApiError(422, "validation_failed", "x")).message).toMatch(/1 to 100/);
    expect(explainGuestError(new ApiError(0, "network", "Cannot reach the server.")).message).toBe("Cannot reach the server.");
    expect(explainGuestError(new Error("boom")).needsAccount).toBe(false);
  });

  it("falls back on the status when the code is unknown", () => {
    expect(explainGuestError(new ApiError(403, "forbidden", "x")).needsAccount).toBe(true);
    expect(explainGuestError(new ApiError(409, "conflict", "x")).message).toBe("This meeting has ended.");
    expect(explainGuestError(new ApiError(500, "internal", "Server error")).message).toBe("Server error");
  });
});

describe("requestGuestGrant", () => {
  it("posts the trimmed name without a token and keeps the meeting from the answer", async () => {
    const fetchFn = vi.fn(async () =>
      new Response(JSON.stringify({ access_token: "t", token_type: "Bearer", expires_in: 900, user, meeting }), { status: 201 }),
    );
    const g = await requestGuestGrant("abc-defg-hij", "  Grace ", { fetch: fetchFn as unknown as typeof fetch, now: () => 1000 });
    expect(g).toEqual({ code: "abc-defg-hij", access_token: "t", expires_at: 901_000, user, meeting });
    const [url, init] = fetchFn.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/meetings/abc-defg-hij/guests");
    expect(init.method).toBe("POST");
    expect(JSON.parse(String(init.body))).toEqual({ name: "Grace" });
    expect(Object.keys(init.headers as Record<string, string>)).not.toContain("Authorization");
  });

  it("throws the server's error code", async () => {
    const fetchFn = async () => new Response(JSON.stringify({ error: { code: "guests_not_allowed", message: "no" } }), { status: 403 });
    await expect(requestGuestGrant("abc-defg-hij", "Grace", { fetch: fetchFn as unknown as typeof fetch })).rejects.toMatchObject({
      status: 403,
      code: "guests_not_allowed",
    });
  });

  it("reports a network failure", async () => {
    const fetchFn = async () => {
      throw new TypeError("failed");
    };
    await expect(requestGuestGrant("abc-defg-hij", "Grace", { fetch: fetchFn as unknown as typeof fetch })).rejects.toMatchObject({
      status: 0,
      code: "network",
    });
  });
});

describe("GuestSession", () => {
  it("is the guest for the meeting page, hands out its token, and never refreshes or calls REST", async () => {
    let now = 1000;
    const s = new GuestSession(grant({ expires_at: 5000 }), () => now);
    expect(s.user).toEqual(user);
    expect(s.isAuthenticated).toBe(false);
    await expect(s.accessToken()).resolves.toBe("guest-token");
    await expect(s.refresh()).rejects.toBeInstanceOf(ApiError);
    await expect(s.request("/api/meetings/abc")).rejects.toMatchObject({ status: 401 });
    s.syncFromStorage();
    expect(s.user).toEqual(user);
    now = 5000;
    await expect(s.accessToken()).rejects.toMatchObject({ code: "token_expired" });
  });
});

describe("guestJoinPath", () => {
  it("opens the sign-in page on its guest tab, back to the meeting", () => {
    expect(guestJoinPath("abc-defg-hij")).toBe("/login?next=%2Fmeeting%2Fabc-defg-hij&guest=1");
  });
});

describe("a guest's join refused in the meeting", () => {
  it("guests_not_allowed fails the join (it is not a passing notice)", async () => {
    const { initialMeetingState, reduceServerMessage, describeProblem } = await import("../meeting/state");
    const s = reduceServerMessage({ ...initialMeetingState, phase: "joining" }, { type: "error", code: "guests_not_allowed", message: "no" } as never);
    expect(s.phase).toBe("failed");
    expect(s.failure?.code).toBe("guests_not_allowed");
    expect(describeProblem(s.failure!)).toMatch(/guests/);
  });
});
