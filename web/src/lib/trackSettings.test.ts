import { describe, expect, it } from "vitest";
import type { ParticipantInfo } from "../protocol";
import { changedSettings, planTrackSettings } from "./trackSettings";

function person(id: number, screen = false): ParticipantInfo {
  return {
    id,
    user_id: id,
    name: `P${id}`,
    is_host: false,
    is_cohost: false,
    is_guest: false,
    connection: "connected",
    media: { audio_muted: false, video_muted: false, screen_sharing: screen },
    tracks: [
      { track_id: `tr-${id}0`, kind: "audio", source: "microphone" },
      { track_id: `tr-${id}1`, kind: "video", source: "camera" },
      ...(screen ? [{ track_id: `tr-${id}2`, kind: "video" as const, source: "screen_share" as const }] : []),
    ],
  };
}

describe("planTrackSettings", () => {
  const people = { 1: person(1), 2: person(2, true), 3: person(3) };

  it("asks for shown tiles at their device-pixel size and disables the rest", () => {
    const plan = planTrackSettings(
      people,
      [
        { participantId: 1, kind: "camera", width: 320, height: 180 },
        { participantId: 2, kind: "screen", width: 960, height: 540 },
      ],
      2,
      false,
    );
    expect(plan).toEqual([
      { track_id: "tr-11", enabled: true, max_width: 640, max_height: 360 },
      { track_id: "tr-21", enabled: false },
      { track_id: "tr-22", enabled: true, max_width: 1920, max_height: 1080, priority: 2 },
      { track_id: "tr-31", enabled: false },
    ]);
  });

  it("serves the main tile and screen shares first, then whoever speaks", () => {
    const plan = planTrackSettings(
      people,
      [
        { participantId: 1, kind: "camera", width: 640, height: 360, main: true },
        { participantId: 2, kind: "camera", width: 160, height: 90 },
        { participantId: 3, kind: "camera", width: 160, height: 90 },
      ],
      1,
      false,
      new Set([3]),
    );
    const priorities = Object.fromEntries(plan.filter((t) => t.enabled).map((t) => [t.track_id, t.priority ?? 0]));
    expect(priorities).toEqual({ "tr-11": 2, "tr-21": 0, "tr-31": 1 });
  });

  it("disables every video while the tab is hidden, and never lists audio", () => {
    const plan = planTrackSettings(people, [{ participantId: 1, kind: "camera", width: 320, height: 180 }], 1, true);
    expect(plan.every((t) => !t.enabled)).toBe(true);
    expect(plan.map((t) => t.track_id)).toEqual(["tr-11", "tr-21", "tr-22", "tr-31"]);
  });
});

describe("changedSettings", () => {
  it("resends a track whose priority changed", () => {
    const sent = new Map([["a", { track_id: "a", enabled: true, max_width: 320, max_height: 176 }]]);
    expect(changedSettings(sent, [{ track_id: "a", enabled: true, max_width: 320, max_height: 176, priority: 1 }])).toHaveLength(1);
  });

  it("keeps only what differs from what was sent", () => {
    const sent = new Map([
      ["a", { track_id: "a", enabled: true, max_width: 320, max_height: 176 }],
      ["b", { track_id: "b", enabled: false }],
    ]);
    expect(
      changedSettings(sent, [
        { track_id: "a", enabled: true, max_width: 320, max_height: 176 },
        { track_id: "b", enabled: true, max_width: 320, max_height: 176 },
        { track_id: "c", enabled: false },
      ]),
    ).toEqual([
      { track_id: "b", enabled: true, max_width: 320, max_height: 176 },
      { track_id: "c", enabled: false },
    ]);
  });
});
