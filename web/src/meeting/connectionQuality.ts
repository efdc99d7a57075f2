import type { ParticipantInfo, RemoteTrack, TrackFlow } from "../protocol";

/** How well a participant's media reaches us (LiveKit's four grades). */
export type Quality = "excellent" | "good" | "poor" | "lost";

/** One measurement window of one participant's (or our own) media. */
export interface QualitySample {
  /** Packets lost / packets expected in the window (0-1), or null without packets. */
  loss: number | null;
  /** Interarrival jitter (ms), the worst of the participant's streams. */
  jitterMs: number | null;
  /** Round trip to the SFU (ms), known for our own uplink only. */
  rttMs: number | null;
  /** The server paused one of their videos for our bandwidth (`track_state`). */
  pausedForBandwidth: boolean;
  /** The server counts them as reconnecting. */
  reconnecting: boolean;
}

/**
 * Grades a window. The thresholds follow where calls start to suffer: a few percent of loss is
 * concealed by Opus and NACK, 8 % is audible; 30 ms of jitter is absorbed by the jitter
 * buffer, 100 ms is not; over 300 ms of round trip conversation overlaps.
 */
export function gradeQuality(s: QualitySample): Quality {
  if (s.reconnecting) return "lost";
  const loss = s.loss ?? 0;
  const jitter = s.jitterMs ?? 0;
  const rtt = s.rttMs ?? 0;
  if (loss >= 0.08 || jitter >= 100 || rtt >= 300) return "poor";
  if (s.pausedForBandwidth) return "poor";
  if (loss >= 0.02 || jitter >= 30 || rtt >= 150) return "good";
  return "excellent";
}

/** The fields of an `inbound-rtp` / `remote-inbound-rtp` stats entry read here. */
export interface RtpStat {
  type: string;
  ssrc?: number;
  mid?: string;
  kind?: string;
  packetsReceived?: number;
  packetsLost?: number;
  jitter?: number;
  roundTripTime?: number;
  fractionLost?: number;
}

interface Counters {
  received: number;
  lost: number;
}

interface Window {
  received: number;
  lost: number;
  jitterMs: number | null;
}

/**
 * Turns successive stats reports into a grade per remote participant and one for ourselves.
 * Loss is measured over the window between two reports (the counters are cumulative), so an
 * old burst of loss does not keep someone marked poor.
 */
export class QualityMeter {
  private readonly last = new Map<string, Counters>();

  /**
   * `inbound`: the subscribe connection's report; `uplink`: the publish connection's (the
   * SFU's receiver reports about what we send); `selfDown`: a connection of ours is
   * disconnected. Returns grades by participant id and "self".
   */
  update(
    inbound: RtpStat[],
    uplink: RtpStat[],
    tracks: Record<string, RemoteTrack>,
    participants: Record<number, ParticipantInfo>,
    flows: Record<string, TrackFlow>,
    selfDown: boolean,
  ): Record<string, Quality> {
    const windows = new Map<number, Window>();
    const seen = new Set<string>();
    for (const s of inbound) {
      if (s.type !== "inbound-rtp" || s.mid === undefined) continue;
      const track = tracks[s.mid];
      if (!track) continue;
      const key = `${s.mid}:${s.ssrc ?? ""}`;
      seen.add(key);
      const now = { received: s.packetsReceived ?? 0, lost: Math.max(0, s.packetsLost ?? 0) };
      const before = this.last.get(key);
      this.last.set(key, now);
      const w = windows.get(track.participant_id) ?? { received: 0, lost: 0, jitterMs: null };
      if (before && now.received >= before.received) {
        w.received += now.received - before.received;
        w.lost += Math.max(0, now.lost - before.lost);
      }
      if (s.jitter !== undefined && now.received > (before?.received ?? 0)) w.jitterMs = Math.max(w.jitterMs ?? 0, s.jitter * 1000);
      windows.set(track.participant_id, w);
    }
    for (const key of [...this.last.keys()]) if (!seen.has(key)) this.last.delete(key);

    const out: Record<string, Quality> = {};
    for (const p of Object.values(participants)) {
      const w = windows.get(p.id);
      const expected = w ? w.received + w.lost : 0;
      const paused = p.tracks.some((t) => flows[t.track_id] === "paused_bandwidth");
      out[String(p.id)] = gradeQuality({
        loss: expected > 0 ? w!.lost / expected : null,
        jitterMs: w?.jitterMs ?? null,
        rttMs: null,
        pausedForBandwidth: paused,
        reconnecting: p.connection === "reconnecting",
      });
    }
    out.self = gradeQuality({ ...selfSample(uplink), reconnecting: selfDown });
    return out;
  }
}

/** Our uplink, from the SFU's receiver reports: the worst stream's loss, round trip and jitter. */
function selfSample(uplink: RtpStat[]): QualitySample {
  let loss: number | null = null;
  let rtt: number | null = null;
  let jitter: number | null = null;
  for (const s of uplink) {
    if (s.type !== "remote-inbound-rtp") continue;
    if (s.fractionLost !== undefined) loss = Math.max(loss ?? 0, s.fractionLost);
    if (s.roundTripTime !== undefined) rtt = Math.max(rtt ?? 0, s.roundTripTime * 1000);
    if (s.jitter !== undefined) jitter = Math.max(jitter ?? 0, s.jitter * 1000);
  }
  return { loss, jitterMs: jitter, rttMs: rtt, pausedForBandwidth: false, reconnecting: false };
}

/** Shallow equality of two grade tables, so an unchanged window re-renders nothing. */
export function sameGrades(a: Record<string, Quality>, b: Record<string, Quality>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
