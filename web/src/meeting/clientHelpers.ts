import type { IceServer, RemoteTrack } from "../protocol";
import { CloseCode } from "../protocol";
import type { PeerStates, RemoteMedia } from "./clientTypes";
import type { MeetingState } from "./state";

export function isStopped(tx: RTCRtpTransceiver): boolean {
  return tx.currentDirection === "stopped" || tx.direction === "stopped";
}

function emptyRemote(): RemoteMedia {
  return { audio: [], camera: null, screen: null };
}

/** The subscribe connection's receivers, by participant, matched to `tracks` by mid. */
export function remoteMediaOf(transceivers: RTCRtpTransceiver[], tracks: RemoteTrack[]): Record<number, RemoteMedia> {
  const byMid = new Map<string, RemoteTrack>();
  for (const t of tracks) byMid.set(t.mid, t);
  const next: Record<number, RemoteMedia> = {};
  for (const tx of transceivers) {
    if (!tx.mid || isStopped(tx)) continue;
    const t = byMid.get(tx.mid);
    if (!t) continue;
    const track = tx.receiver.track;
    const m = (next[t.participant_id] ??= emptyRemote());
    if (t.kind === "audio") m.audio.push(track);
    else if (t.source === "screen_share") m.screen = track;
    else m.camera = track;
  }
  return next;
}

/**
 * `next`, keeping the objects of participants whose tracks did not change (their tiles skip
 * re-rendering); `null` when nothing changed at all.
 */
export function keepUnchanged(prev: Record<number, RemoteMedia>, next: Record<number, RemoteMedia>): Record<number, RemoteMedia> | null {
  const merged: Record<number, RemoteMedia> = {};
  let changed = Object.keys(prev).length !== Object.keys(next).length;
  for (const [id, m] of Object.entries(next)) {
    const p = prev[Number(id)];
    const same =
      p && p.camera === m.camera && p.screen === m.screen && p.audio.length === m.audio.length && p.audio.every((a, i) => a === m.audio[i]);
    merged[Number(id)] = same ? p : m;
    if (!same) changed = true;
  }
  return changed ? merged : null;
}

export function toRtcIceServers(servers: IceServer[]): RTCIceServer[] {
  return servers.map((s) => ({
    urls: s.urls,
    ...(s.username !== undefined ? { username: s.username } : {}),
    ...(s.credential !== undefined ? { credential: s.credential } : {}),
  }));
}

/** Where a signaling close that will not be retried leaves the meeting. */
export function closeFailure(code: number, state: MeetingState): Partial<MeetingState> {
  switch (code) {
    case CloseCode.MeetingEnded:
      return { phase: "ended", endedReason: state.endedReason ?? "host_ended" };
    case CloseCode.Removed:
      // The `removed` message that comes first says by whom; without it, nobody is named.
      return { phase: "removed", removal: state.removal ?? { byName: null, banned: false } };
    case CloseCode.Replaced:
      return { phase: "failed", failure: { code: "replaced", message: "Replaced by another session" } };
    case CloseCode.Unauthenticated:
      return { phase: "failed", failure: { code: "unauthenticated", message: "Not authenticated" } };
    case CloseCode.MeetingNotFound:
      return { phase: "failed", failure: { code: "meeting_not_found", message: "Meeting not found" } };
    default:
      return {
        phase: "failed",
        failure: state.failure ?? { code: "connection_lost", message: `Connection closed (${code})` },
      };
  }
}

/** Plain-data summary of both connections' RTP stats (debugging and the end-to-end test). */
export async function statsSummary(
  pub: RTCPeerConnection | null,
  sub: RTCPeerConnection | null,
  tracks: Record<string, RemoteTrack>,
  peers: PeerStates,
): Promise<{
  publish: Array<Record<string, unknown>>;
  subscribe: Array<Record<string, unknown>>;
  peers: PeerStates;
}> {
  const pick = (s: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.filter((k) => k in s).map((k) => [k, s[k]]));
  const publish: Array<Record<string, unknown>> = [];
  const subscribe: Array<Record<string, unknown>> = [];
  if (pub) {
    (await pub.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type === "outbound-rtp") publish.push(pick(s, ["kind", "mid", "rid", "active", "bytesSent", "packetsSent", "framesEncoded", "frameWidth", "frameHeight"]));
    });
  }
  if (sub) {
    (await sub.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type !== "inbound-rtp") return;
      const t = typeof s.mid === "string" ? tracks[s.mid] : undefined;
      subscribe.push({
        ...pick(s, ["kind", "mid", "bytesReceived", "packetsReceived", "packetsLost", "framesDecoded", "frameWidth", "frameHeight", "audioLevel"]),
        participant_id: t?.participant_id ?? null,
        source: t?.source ?? null,
      });
    });
  }
  return { publish, subscribe, peers };
}
