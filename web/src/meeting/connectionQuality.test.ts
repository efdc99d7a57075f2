import { describe, expect, it } from "vitest";
import type { ParticipantInfo, RemoteTrack } from "../protocol";
import { gradeQuality, QualityMeter, sameGrades, type RtpStat } from "./connectionQuality";

const clean = { loss: 0, jitterMs: 5, rttMs: 20, pausedForBandwidth: false, reconnecting: false };

describe("gradeQuality", () => {
  it("grades loss, jitter and round trip", () => {
    expect(gradeQuality(clean)).toBe("excellent");
    expect(gradeQuality({ ...clean, loss: 0.03 })).toBe("good");
    expect(gradeQuality({ ...clean, loss: 0.1 })).toBe("poor");
    expect(gradeQuality({ ...clean, jitterMs: 45 })).toBe("good");
    expect(gradeQuality({ ...clean, jitterMs: 150 })).toBe("poor");
    expect(gradeQuality({ ...clean, rttMs: 200 })).toBe("good");
    expect(gradeQuality({ ...clean, rttMs: 400 })).toBe("poor");
  });

  it("a video paused for bandwidth is poor, a reconnecting participant lost, no packets unknown = fine", () => {
    expect(gradeQuality({ ...clean, pausedForBandwidth: true })).toBe("poor");
    expect(gradeQuality({ ...clean, reconnecting: true })).toBe("lost");
    expect(gradeQuality({ loss: null, jitterMs: null, rttMs: null, pausedForBandwidth: false, reconnecting: false })).toBe("excellent");
  });
});

const person = (id: number, extra: Partial<ParticipantInfo> = {}): ParticipantInfo =>
  ({
    id,
    user_id: id * 10,
    name: `P${id}`,
    is_host: false,
    connection: "connected",
    media: { audio_muted: false, video_muted: false, screen_sharing: false },
    tracks: [{ track_id: `v${id}`, kind: "video", source: "camera" }],
    ...extra,
  }) as ParticipantInfo;
const tracks: Record<string, RemoteTrack> = {
  "0": { mid: "0", participant_id: 2, track_id: "a2", kind: "audio", source: "microphone" } as RemoteTrack,
  "1": { mid: "1", participant_id: 2, track_id: "v2", kind: "video", source: "camera" } as RemoteTrack,
  "2": { mid: "2", participant_id: 3, track_id: "v3", kind: "video", source: "camera" } as RemoteTrack,
};
const inbound = (mid: string, packetsReceived: number, packetsLost: number, jitter = 0.004): RtpStat => ({ type: "inbound-rtp", mid, ssrc: Number(mid) + 100, packetsReceived, packetsLost, jitter });

describe("QualityMeter", () => {
  it("measures loss over the window between two reports, per participant", () => {
    const m = new QualityMeter();
    const people = { 2: person(2), 3: person(3) };
    // The first report has no window yet: nothing is known, nobody is marked.
    let g = m.update([inbound("0", 1000, 500), inbound("1", 1000, 0), inbound("2", 100, 0)], [], tracks, people, {}, false);
    expect(g).toMatchObject({ 2: "excellent", 3: "excellent", self: "excellent" });
    // P2 loses 20 of 220 expected across audio and video; P3 loses nothing.
    g = m.update([inbound("0", 1100, 510), inbound("1", 1100, 10), inbound("2", 200, 0)], [], tracks, people, {}, false);
    expect(g[2]).toBe("poor");
    expect(g[3]).toBe("excellent");
    // The burst is over: the old loss no longer counts.
    g = m.update([inbound("0", 1200, 510), inbound("1", 1200, 10), inbound("2", 300, 0)], [], tracks, people, {}, false);
    expect(g[2]).toBe("excellent");
  });

  it("reads the server's track_state, the roster's reconnecting and our own receiver reports", () => {
    const m = new QualityMeter();
    const people = { 2: person(2, { connection: "reconnecting" }), 3: person(3) };
    const uplink: RtpStat[] = [{ type: "remote-inbound-rtp", fractionLost: 0, roundTripTime: 0.35 }];
    const g = m.update([], uplink, tracks, people, { v3: "paused_bandwidth" }, false);
    expect(g).toEqual({ 2: "lost", 3: "poor", self: "poor" });
    expect(m.update([], [], tracks, people, {}, true).self).toBe("lost");
  });

  it("sameGrades compares tables", () => {
    expect(sameGrades({ 1: "good", self: "poor" }, { self: "poor", 1: "good" })).toBe(true);
    expect(sameGrades({ 1: "good" }, { 1: "poor" })).toBe(false);
    expect(sameGrades({ 1: "good" }, {})).toBe(false);
  });
});
