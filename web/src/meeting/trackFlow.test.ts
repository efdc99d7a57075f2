import { describe, expect, it } from "vitest";
import type { ParticipantInfo } from "../protocol";
import { tileNotice, videoTrackId } from "./trackFlow";

describe("tileNotice", () => {
  it("explains a video paused for bandwidth, and nothing else", () => {
    expect(tileNotice("paused_bandwidth")?.text).toMatch(/slow connection/);
    expect(tileNotice("paused_bandwidth")?.title).toMatch(/resumes by itself/);
    for (const flow of ["active", "paused", "waiting", undefined] as const) expect(tileNotice(flow)).toBeNull();
  });
});

describe("videoTrackId", () => {
  const p = {
    id: 2,
    tracks: [
      { track_id: "a", kind: "audio", source: "microphone" },
      { track_id: "c", kind: "video", source: "camera" },
      { track_id: "s", kind: "video", source: "screen_share" },
    ],
  } as unknown as ParticipantInfo;
  it("finds the camera and the screen share apart", () => {
    expect(videoTrackId(p, "camera")).toBe("c");
    expect(videoTrackId(p, "screen")).toBe("s");
    expect(videoTrackId(undefined, "camera")).toBeUndefined();
  });
});
