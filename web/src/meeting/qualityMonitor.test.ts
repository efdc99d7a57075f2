import { afterEach, describe, expect, it, vi } from "vitest";
import { Store } from "../lib/store";
import type { ParticipantInfo, RemoteTrack } from "../protocol";
import type { Quality } from "./connectionQuality";
import { QualityMonitor, type QualityInputs } from "./qualityMonitor";

/** A peer connection whose getStats returns the next of `reports`, as browsers return a map. */
function fakePc(reports: Array<Array<Record<string, unknown>>>): RTCPeerConnection {
  let i = 0;
  return { getStats: async () => new Map((reports[Math.min(i++, reports.length - 1)] ?? []).map((s, k) => [String(k), s])) } as unknown as RTCPeerConnection;
}

const bob = { id: 2, user_id: 20, name: "Bob", is_host: false, connection: "connected", media: { audio_muted: false, video_muted: false, screen_sharing: false }, tracks: [] } as unknown as ParticipantInfo;
const tracks = { "0": { mid: "0", participant_id: 2, track_id: "a", kind: "audio", source: "microphone" } as RemoteTrack };

afterEach(() => vi.useRealTimers());

describe("QualityMonitor", () => {
  it("grades each window from the connections' stats and clears on stop", async () => {
    vi.useFakeTimers();
    const store = new Store<Record<string, Quality>>({});
    const sub = fakePc([
      [{ type: "inbound-rtp", mid: "0", ssrc: 1, packetsReceived: 100, packetsLost: 0, jitter: 0.002 }],
      [{ type: "inbound-rtp", mid: "0", ssrc: 1, packetsReceived: 180, packetsLost: 20, jitter: 0.002 }],
    ]);
    const inputs: QualityInputs = { publish: null, subscribe: sub, tracks, participants: { 2: bob }, flows: {}, selfDown: false };
    const monitor = new QualityMonitor(store, () => inputs);
    monitor.start();
    await monitor.tick();
    expect(store.getSnapshot()).toEqual({ 2: "excellent", self: "excellent" });
    await monitor.tick();
    expect(store.getSnapshot()[2]).toBe("poor"); // 20 of 100 lost in the window
    monitor.stop();
    expect(store.getSnapshot()).toEqual({});
  });

  it("a tick after stop publishes nothing", async () => {
    const store = new Store<Record<string, Quality>>({});
    const monitor = new QualityMonitor(store, () => ({ publish: null, subscribe: fakePc([[]]), tracks, participants: { 2: bob }, flows: {}, selfDown: false }));
    await monitor.tick();
    expect(store.getSnapshot()).toEqual({});
  });
});
