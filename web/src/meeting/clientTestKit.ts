// The fake browser and server a MeetingClient test runs against (the tests are in
// MeetingClient.test.ts and lobbyClient.test.ts).
import { expect, vi } from "vitest";
import { MeetingClient, type MediaDevicesLike, type MeetingClientOptions } from "./MeetingClient";
import { SignalingConnection } from "./signaling";
import { FakeMediaStream, FakePeerConnection, FakeSocket, FakeTrack } from "./testFakes";

(globalThis as unknown as { MediaStream: unknown }).MediaStream = FakeMediaStream;

export const welcome = { type: "welcome", version: 1, user_id: 10, name: "Ada", heartbeat_interval_ms: 60_000 };
export const person = (id: number, name: string, media = { audio_muted: false, video_muted: false, screen_sharing: false }) => ({
  id,
  user_id: id * 10,
  name,
  is_host: false,
  connection: "connected",
  media,
  tracks: [],
});
export const meetingInfo = { code: "abc-defg-hij", title: "Standup", host_user_id: 10, locked: false, lobby: false, allow_guests: false };
export const joined = (resumed = false, participants: unknown[] = [person(2, "Bo")], you: unknown = person(1, "Ada")) => ({
  type: "joined",
  participant_id: 1,
  meeting: meetingInfo,
  you,
  participants,
  ice_servers: [{ urls: ["stun:127.0.0.1:3478"] }],
  resume_token: resumed ? "rt-2" : "rt-1",
  resumed,
  chat_history: [],
});

export interface SetupOptions {
  denyCamera?: boolean;
  /** Device ids that are not there (unplugged): asking for one exactly fails. */
  gone?: string[];
  initial?: MeetingClientOptions["initial"];
  reactionTtlMs?: number;
  now?: () => number;
}

export const askedFor = (c: boolean | MediaTrackConstraints | undefined) =>
  typeof c === "object" ? ((c.deviceId as ConstrainDOMStringParameters | undefined)?.exact as string | undefined) : undefined;

function fakeDevices(opts: SetupOptions = {}): MediaDevicesLike {
  return {
    getUserMedia: vi.fn(async (c: MediaStreamConstraints) => {
      if (c.video && opts.denyCamera) throw Object.assign(new Error("denied"), { name: "NotAllowedError" });
      const gone = [askedFor(c.audio), askedFor(c.video)].some((id) => id && opts.gone?.includes(id));
      if (gone) throw Object.assign(new Error("no such device"), { name: "OverconstrainedError" });
      const tracks: FakeTrack[] = [];
      if (c.audio) tracks.push(new FakeTrack("audio"));
      if (c.video) tracks.push(new FakeTrack("video"));
      return new FakeMediaStream(tracks) as unknown as MediaStream;
    }),
    getDisplayMedia: vi.fn(async () => new FakeMediaStream([new FakeTrack("video")]) as unknown as MediaStream),
    enumerateDevices: vi.fn(async () => [
      { kind: "audioinput", deviceId: "mic1", label: "Mic 1" },
      { kind: "videoinput", deviceId: "cam1", label: "Cam 1" },
    ] as MediaDeviceInfo[]),
  };
}

export async function setup(opts: SetupOptions = {}) {
  const md = fakeDevices(opts);
  const signaling = new SignalingConnection({
    url: "ws://h/ws",
    getToken: async () => "tok",
    socketFactory: (u) => new FakeSocket(u),
    backoff: () => 0,
  });
  const client = new MeetingClient({
    signaling,
    meetingCode: "abc-defg-hij",
    createPeerConnection: (c) => new FakePeerConnection(c) as unknown as RTCPeerConnection,
    mediaDevices: md,
    negotiationTimeoutMs: 2000,
    initial: opts.initial,
    reactionTtlMs: opts.reactionTtlMs,
    now: opts.now,
  });
  await client.acquireMedia();
  return { client, signaling, md };
}

/** Connect, say welcome, and answer the join with `joined`. */
export async function joinMeeting(client: MeetingClient) {
  client.join();
  await vi.waitFor(() => expect(FakeSocket.instances.length).toBeGreaterThan(0));
  const ws = FakeSocket.last();
  ws.open();
  ws.receive(welcome);
  const join = ws.ofType("join")[0];
  ws.receive(joined());
  await vi.waitFor(() => expect(ws.ofType("publish_offer")).toHaveLength(1));
  return { ws, join, pub: FakePeerConnection.instances[0] };
}

/** Call in `beforeEach`: every test starts without sockets or peer connections. */
export function resetFakes(): void {
  FakeSocket.instances = [];
  FakePeerConnection.instances = [];
}
