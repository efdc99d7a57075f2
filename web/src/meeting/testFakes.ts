/* Test doubles for WebSocket, RTCPeerConnection and MediaStream (unit tests only). */
import type { SocketLike } from "./signaling";

export class FakeSocket implements SocketLike {
  static instances: FakeSocket[] = [];
  readyState = 0;
  sent: Array<Record<string, unknown>> = [];
  closedWith: number | null = null;
  onopen: SocketLike["onopen"] = null;
  onmessage: SocketLike["onmessage"] = null;
  onclose: SocketLike["onclose"] = null;
  onerror: SocketLike["onerror"] = null;
  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code?: number) {
    this.readyState = 3;
    this.closedWith = code ?? 1000;
  }
  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  /** A frame from the server (plain JSON, as on the wire). */
  receive(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) } as MessageEvent);
  }
  drop(code = 1006, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason } as CloseEvent);
  }
  ofType(type: string) {
    return this.sent.filter((m) => m.type === type);
  }
  static last(): FakeSocket {
    return FakeSocket.instances[FakeSocket.instances.length - 1];
  }
}

let trackSeq = 0;
export class FakeTrack {
  id = `track-${++trackSeq}`;
  enabled = true;
  readyState: "live" | "ended" = "live";
  contentHint = "";
  private listeners: Array<() => void> = [];
  constructor(readonly kind: "audio" | "video") {}
  stop() {
    this.readyState = "ended";
  }
  getSettings() {
    return { deviceId: `${this.kind}-dev` };
  }
  addEventListener(_t: string, fn: () => void) {
    this.listeners.push(fn);
  }
}

export class FakeMediaStream {
  tracks: FakeTrack[];
  constructor(tracks: FakeTrack[] = []) {
    this.tracks = [...tracks];
  }
  addTrack(t: FakeTrack) {
    this.tracks.push(t);
  }
  getAudioTracks() {
    return this.tracks.filter((t) => t.kind === "audio");
  }
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === "video");
  }
  getTracks() {
    return this.tracks;
  }
}

export class FakeSender {
  /** One encoding unless the transceiver was given `sendEncodings`, as in browsers. */
  encodings: RTCRtpEncodingParameters[];
  constructor(
    public track: FakeTrack | null,
    encodings: RTCRtpEncodingParameters[] | undefined,
  ) {
    this.encodings = encodings?.map((e) => ({ ...e })) ?? [{}];
  }
  async replaceTrack(t: FakeTrack | null) {
    this.track = t;
  }
  getParameters() {
    return { encodings: structuredClone(this.encodings) } as RTCRtpSendParameters;
  }
  async setParameters(p: RTCRtpSendParameters) {
    this.encodings = structuredClone(p.encodings);
  }
}

export class FakeTransceiver {
  mid: string | null = null;
  currentDirection: string | null = null;
  sender: FakeSender;
  receiver: { track: FakeTrack };
  constructor(
    readonly kind: "audio" | "video",
    public direction: string,
    track: FakeTrack | null,
    sendEncodings?: RTCRtpEncodingParameters[],
  ) {
    this.sender = new FakeSender(track, sendEncodings);
    this.receiver = { track: new FakeTrack(kind) };
  }
}

export class FakePeerConnection {
  static instances: FakePeerConnection[] = [];
  transceivers: FakeTransceiver[] = [];
  signalingState = "stable";
  connectionState = "new";
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  offerOptions: Array<RTCOfferOptions | undefined> = [];
  closed = false;
  private listeners = new Map<string, Array<(ev: unknown) => void>>();
  private offers = 0;
  constructor(readonly config: RTCConfiguration) {
    FakePeerConnection.instances.push(this);
  }
  addEventListener(type: string, fn: (ev: unknown) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  emit(type: string, ev: unknown) {
    for (const fn of this.listeners.get(type) ?? []) fn(ev);
  }
  addTransceiver(trackOrKind: FakeTrack | "audio" | "video", init: { direction: string; sendEncodings?: RTCRtpEncodingParameters[] }) {
    const kind = typeof trackOrKind === "string" ? trackOrKind : trackOrKind.kind;
    const tx = new FakeTransceiver(kind, init.direction, typeof trackOrKind === "string" ? null : trackOrKind, init.sendEncodings);
    this.transceivers.push(tx);
    return tx;
  }
  getTransceivers() {
    return this.transceivers;
  }
  async createOffer(opts?: RTCOfferOptions) {
    this.offerOptions.push(opts);
    return { type: "offer", sdp: `offer-${++this.offers}${opts?.iceRestart ? "-restart" : ""}` };
  }
  async createAnswer() {
    return { type: "answer", sdp: `answer-to-${this.remoteDescription?.sdp}` };
  }
  async setLocalDescription(d: { type: string; sdp?: string }) {
    if (d.type === "rollback") {
      this.signalingState = "stable";
      return;
    }
    this.localDescription = { type: d.type, sdp: d.sdp ?? "" };
    if (d.type === "offer") {
      this.transceivers.forEach((t, i) => {
        t.mid ??= String(i);
      });
      this.signalingState = "have-local-offer";
    } else {
      this.signalingState = "stable";
    }
  }
  /** A subscriber offer's sdp in these tests is "sub:<mid>/<kind>,..." and creates receivers. */
  async setRemoteDescription(d: { type: string; sdp: string }) {
    this.remoteDescription = d;
    if (d.type === "offer") {
      const spec = d.sdp.startsWith("sub:") ? d.sdp.slice(4).split(",").filter(Boolean) : [];
      for (const s of spec) {
        const [mid, kind] = s.split("/");
        if (this.transceivers.some((t) => t.mid === mid)) continue;
        const tx = new FakeTransceiver(kind as "audio" | "video", "recvonly", null);
        tx.mid = mid;
        this.transceivers.push(tx);
        this.emit("track", { transceiver: tx, track: tx.receiver.track });
      }
      this.signalingState = "have-remote-offer";
    } else {
      this.signalingState = "stable";
    }
  }
  async getStats() {
    return new Map();
  }
  close() {
    this.closed = true;
    this.signalingState = "closed";
  }
}
