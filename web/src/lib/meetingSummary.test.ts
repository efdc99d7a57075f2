import { describe, expect, it } from "vitest";
import { attendees, attendeeSummary, endedNote, formatDuration } from "./meetingSummary";

describe("formatDuration", () => {
  it("formats minutes and hours, and says nothing when a time is missing or out of order", () => {
    expect(formatDuration("2026-12-01T10:00:00Z", "2026-12-01T10:00:20Z")).toBe("under a minute");
    expect(formatDuration("2026-12-01T10:00:00Z", "2026-12-01T10:42:10Z")).toBe("42 min");
    expect(formatDuration("2026-12-01T10:00:00Z", "2026-12-01T11:05:00Z")).toBe("1 h 05 min");
    expect(formatDuration("2026-12-01T10:00:00Z", "2026-12-01T12:59:50Z")).toBe("3 h 00 min");
    expect(formatDuration(null, "2026-12-01T11:05:00Z")).toBe("");
    expect(formatDuration("2026-12-01T11:05:00Z", "2026-12-01T10:00:00Z")).toBe("");
    expect(formatDuration("not a date", "2026-12-01T10:00:00Z")).toBe("");
  });
});

describe("attendees", () => {
  it("lists each person once, by first arrival (the API's rows: user_id, name, joined_at, left_at)", () => {
    const rows = [
      { user_id: 2, name: "Bo", joined_at: "2026-12-01T10:05:00Z", left_at: null },
      { user_id: 1, name: "Ada", joined_at: "2026-12-01T10:00:00Z", left_at: "2026-12-01T10:30:00Z" },
      { user_id: 2, name: "Bo", joined_at: "2026-12-01T10:01:00Z", left_at: "2026-12-01T10:02:00Z" },
    ];
    expect(attendees(rows)).toEqual(["Ada", "Bo"]);
    expect(attendees([])).toEqual([]);
  });

  it("says how many came and who, or that nobody did", () => {
    expect(attendeeSummary(["Ada", "Bo"])).toBe("2 people: Ada, Bo");
    expect(attendeeSummary(["Ada"])).toBe("1 person: Ada");
    expect(attendeeSummary([])).toBe("Nobody joined");
  });
});

describe("endedNote", () => {
  it("says when a meeting ended and how long it lasted, if known", () => {
    expect(endedNote({ started_at: "2026-12-01T10:00:00Z", ended_at: "2026-12-01T10:42:00Z" })).toMatch(/^It ended .+ and lasted 42 min\.$/);
    const neverStarted = endedNote({ started_at: null, ended_at: "2026-12-01T10:42:00Z" });
    expect(neverStarted).toMatch(/^It ended \S.*\.$/);
    expect(neverStarted).not.toContain("lasted");
    expect(endedNote({ started_at: null, ended_at: null })).toBe("");
  });
});
