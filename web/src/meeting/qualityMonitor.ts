import type { Store } from "../lib/store";
import type { ParticipantInfo, RemoteTrack, TrackFlow } from "../protocol";
import { QualityMeter, sameGrades, type Quality, type RtpStat } from "./connectionQuality";

/** What a stats window needs from the client, read fresh at every tick. */
export interface QualityInputs {
  publish: RTCPeerConnection | null;
  subscribe: RTCPeerConnection | null;
  tracks: Record<string, RemoteTrack>;
  participants: Record<number, ParticipantInfo>;
  flows: Record<string, TrackFlow>;
  /** A connection of ours is disconnected or failed. */
  selfDown: boolean;
}

/** Seconds per window: long enough for a few hundred packets, short enough to notice trouble. */
export const QUALITY_INTERVAL_MS = 2000;

async function rtpStats(pc: RTCPeerConnection | null): Promise<RtpStat[]> {
  if (!pc) return [];
  const out: RtpStat[] = [];
  try {
    (await pc.getStats()).forEach((s: RtpStat) => {
      if (s.type === "inbound-rtp" || s.type === "remote-inbound-rtp") out.push(s);
    });
  } catch {
    /* closed meanwhile: nothing this window */
  }
  return out;
}

/** Polls both connections' stats while joined and publishes a grade per participant. */
export class QualityMonitor {
  private timer: ReturnType<typeof setInterval> | null = null;
  private meter = new QualityMeter();
  private busy = false;

  constructor(
    private readonly store: Store<Record<string, Quality>>,
    private readonly inputs: () => QualityInputs,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), QUALITY_INTERVAL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.meter = new QualityMeter();
    this.store.set({});
  }

  /** One window (exposed for tests). A slow getStats never stacks ticks. */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const i = this.inputs();
      const [inbound, uplink] = await Promise.all([rtpStats(i.subscribe), rtpStats(i.publish)]);
      if (!this.timer) return; // stopped while waiting
      const grades = this.meter.update(inbound, uplink, i.tracks, i.participants, i.flows, i.selfDown);
      this.store.set((prev) => (sameGrades(prev, grades) ? prev : grades));
    } finally {
      this.busy = false;
    }
  }
}
