import { describe, expect, it } from "vitest";
import { attendees, formatDuration } from "./meetingSummary";

describe("formatDuration", () => {
  it("formats minutes and hours, and says nothing when a time is missing or out of order", () => {
    expect(formatDuration("2026-12-01T10:00:00Z", "2026-12-01T10:00:20Z")).toBe("under a minute");
    expect(formatDuration("2026-12-01T10:00:00Z", "2026-12-01T10:42:10Z")).toBe("42 min");
    expect(formatDuration("2026-12-01T10:00:00Z", "2026-12-01T11:05:00Z")).toBe("1 h 05 min");
    expect(formatDuration(null, "2026-12-01T11:05:00Z")).toBe("");
    expect(formatDuration("2026-12-01T11:05:00Z", "2026-12-01T10:00:00Z")).toBe("");
  });
});

describe("attendees", () => {
  it("lists each person once, by first arrival, from a page or a plain list", () => {
    const rows = [
      { id: 3, user_id: 2, name: "Bo", joined_at: "2026-12-01T10:05:00Z", left_at: null },
      { id: 1, user_id: 1, name: "Ada", joined_at: "2026-12-01T10:00:00Z", left_at: "2026-12-01T10:30:00Z" },
      { id: 2, user_id: 2, name: "Bo", joined_at: "2026-12-01T10:01:00Z", left_at: "2026-12-01T10:02:00Z" },
    ];
    expect(attendees(rows)).toEqual(["Ada", "Bo"]);
    expect(attendees({ items: rows })).toEqual(["Ada", "Bo"]);
    expect(attendees([])).toEqual([]);
  });
});
