import type {
  ClientMessage,
  IceServer,
  MediaState,
  PcKind,
  RemoteTrack,
  ServerMessage,
  ServerMessageOf,
  TrackDecl,
  TrackFlow,
  TrackSetting,
  TrackSource,
} from "../protocol";
import { CloseCode } from "../protocol";
import { Store } from "../lib/store";
import { changedSettings } from "../lib/trackSettings";
import { classifyMediaError } from "./media";
import { listDevices, openDevice, openMicAndCamera } from "./capture";
import type { SignalingConnection } from "./signaling";
import { CAMERA_ENCODINGS, LayerSwitcher } from "./simulcast";
import { applyActiveSpeakers, NOBODY_SPEAKING, type LevelsState } from "./speakers";
import { initialMeetingState, reduceServerMessage, setChatOpen, type MeetingState } from "./state";
import type { DeviceOption, LocalState, MediaDevicesLike, PeerConnectionFactory, PeerStates, RemoteMedia } from "./clientTypes";
import { AnswerWait } from "./answerWait";
import { closeFailure, isStopped, keepUnchanged, remoteMediaOf, statsSummary, toRtcIceServers } from "./clientHelpers";

export type { DeviceOption, LocalState, MediaDevicesLike, PeerConnectionFactory, PeerStates, RemoteMedia };

export interface MeetingClientOptions {
  signaling: SignalingConnection;
  meetingCode: string;
  createPeerConnection?: PeerConnectionFactory;
  mediaDevices?: MediaDevicesLike | null;
  /** How long to wait for a publish_answer. */
  negotiationTimeoutMs?: number;
  initialAudioMuted?: boolean;
  initialVideoMuted?: boolean;
}

const NEGOTIATION_ERRORS = new Set(["negotiation_failed", "sdp_too_large", "too_many_tracks", "bad_message"]);

/**
 * The meeting's WebRTC and signaling state, outside React. React reads it through the stores
 * (`state`, `local`, `remote`, `levels`, `peers`) with useSyncExternalStore, so a stats tick only
 * re-renders the components that select what changed.
 *
 * Two peer connections, each with one offerer: `publish` (we offer our tracks, the SFU answers)
 * and `subscribe` (the SFU offers everybody else's tracks, we answer).
 */
export class MeetingClient {
  readonly code: string;
  readonly state = new Store<MeetingState>(initialMeetingState);
  readonly local: Store<LocalState>;
  readonly remote = new Store<Record<number, RemoteMedia>>({});
  readonly levels = new Store<LevelsState>(NOBODY_SPEAKING);
  /** Dynacast: which camera layers the server wants sent (`publish_layers`). */
  private readonly layers = new LayerSwitcher();
  /** What flows of each remote video (`track_state`), by track id. */
  readonly flows = new Store<Record<string, TrackFlow>>({});
  readonly peers = new Store<PeerStates>({ publish: "none", subscribe: "none" });

  private readonly signaling: SignalingConnection;
  private readonly createPc: PeerConnectionFactory;
  private readonly md: MediaDevicesLike | null;

  private pub: RTCPeerConnection | null = null;
  private sub: RTCPeerConnection | null = null;
  private readonly sources = new Map<RTCRtpTransceiver, TrackSource>();
  private audioTx: RTCRtpTransceiver | null = null;
  private videoTx: RTCRtpTransceiver | null = null;
  private screenTx: RTCRtpTransceiver | null = null;
  private iceServers: IceServer[] = [];
  private resumeToken: string | null = null;
  /** The `track_settings` the server has, by track id. */
  private readonly sentTrackSettings = new Map<string, TrackSetting>();
  private readonly answer: AnswerWait;
  private pubChain: Promise<void> = Promise.resolve();
  private pubQueued: Promise<void> | null = null;
  private pubRestartWanted = false;
  private subChain: Promise<void> = Promise.resolve();
  /** The mid table of the subscriber offer being applied. */
  private subTracks: RemoteTrack[] = [];
  private acquiring: Promise<void> | null = null;
  private epoch = 0;
  private unsubs: Array<() => void> = [];

  constructor(opts: MeetingClientOptions) {
    this.code = opts.meetingCode;
    this.signaling = opts.signaling;
    this.createPc = opts.createPeerConnection ?? ((c) => new RTCPeerConnection(c));
    this.md = opts.mediaDevices === undefined ? (typeof navigator !== "undefined" ? navigator.mediaDevices ?? null : null) : opts.mediaDevices;
    this.answer = new AnswerWait(opts.negotiationTimeoutMs ?? 15_000);
    this.local = new Store<LocalState>({
      audioTrack: null,
      videoTrack: null,
      screenTrack: null,
      audioMuted: opts.initialAudioMuted ?? false,
      videoMuted: opts.initialVideoMuted ?? false,
      audioDeviceId: null,
      videoDeviceId: null,
      devices: { audioinput: [], videoinput: [], audiooutput: [] },
      micProblem: null,
      cameraProblem: null,
      screenProblem: null,
      acquiring: false,
    });
  }

  // ---------------------------------------------------------------- local media (pre-join too)

  /** Open the microphone and (unless the camera is off) the camera. Idempotent. */
  acquireMedia(): Promise<void> {
    if (this.acquiring) return this.acquiring;
    const epoch = this.epoch;
    this.local.patch({ acquiring: true });
    const p: Promise<void> = (async () => {
      const l = this.local.getSnapshot();
      const wantAudio = !l.audioTrack;
      const wantVideo = !l.videoTrack && !l.videoMuted;
      if (!this.md || (!wantAudio && !wantVideo)) return;
      const opened = await openMicAndCamera(this.md, { audio: wantAudio, video: wantVideo }, l);
      const audio = opened.audio.track;
      let video = opened.video.track;
      const micProblem = opened.audio.problem;
      const cameraProblem = opened.video.problem;
      if (epoch !== this.epoch) {
        audio?.stop();
        video?.stop();
        return;
      }
      const cur = this.local.getSnapshot();
      if (audio) audio.enabled = !cur.audioMuted;
      if (video && cur.videoMuted) {
        video.stop();
        video = null;
      }
      this.local.patch({
        audioTrack: audio ?? cur.audioTrack,
        videoTrack: video ?? cur.videoTrack,
        micProblem: wantAudio ? micProblem : cur.micProblem,
        cameraProblem: wantVideo ? cameraProblem : cur.cameraProblem,
        audioMuted: cur.audioMuted || (wantAudio && !audio),
        videoMuted: cur.videoMuted || (wantVideo && !video),
        audioDeviceId: cur.audioDeviceId ?? audio?.getSettings?.().deviceId ?? null,
        videoDeviceId: cur.videoDeviceId ?? video?.getSettings?.().deviceId ?? null,
      });
      await this.refreshDevices();
    })().finally(() => {
      if (this.acquiring !== p) return;
      this.acquiring = null;
      this.local.patch({ acquiring: false });
    });
    this.acquiring = p;
    return p;
  }

  async refreshDevices(): Promise<void> {
    const devices = this.md && (await listDevices(this.md));
    if (devices) this.local.patch({ devices }); // else keep the previous list
  }

  async setAudioMuted(muted: boolean): Promise<void> {
    let track = this.local.getSnapshot().audioTrack;
    if (!muted && !track) {
      if (!this.md) return;
      const opened = await openDevice(this.md, "microphone", this.local.getSnapshot().audioDeviceId);
      if (opened.problem) this.local.patch({ micProblem: opened.problem });
      track = opened.track;
      if (!track) return;
      this.local.patch({ audioTrack: track, micProblem: null });
      await this.audioTx?.sender.replaceTrack(track);
    }
    if (track) track.enabled = !muted;
    this.local.patch({ audioMuted: muted });
    this.sendMediaState();
  }

  toggleAudio(): Promise<void> {
    return this.setAudioMuted(!this.local.getSnapshot().audioMuted);
  }

  /** Camera off releases the camera (the light goes off) and sends nothing on the video sender. */
  async setVideoMuted(muted: boolean): Promise<void> {
    const l = this.local.getSnapshot();
    if (muted) {
      const track = l.videoTrack;
      this.local.patch({ videoTrack: null, videoMuted: true });
      try {
        await this.videoTx?.sender.replaceTrack(null);
      } catch {
        /* pc closed */
      }
      track?.stop();
      this.sendMediaState();
      return;
    }
    if (l.videoTrack) {
      this.local.patch({ videoMuted: false });
      this.sendMediaState();
      return;
    }
    if (!this.md) return;
    const epoch = this.epoch;
    const opened = await openDevice(this.md, "camera", l.videoDeviceId);
    if (opened.problem) this.local.patch({ cameraProblem: opened.problem, videoMuted: true });
    const track = opened.track;
    if (!track) return;
    if (epoch !== this.epoch || this.local.getSnapshot().videoTrack) {
      track.stop();
      return;
    }
    this.local.patch({ videoTrack: track, videoMuted: false, cameraProblem: null });
    try {
      await this.videoTx?.sender.replaceTrack(track);
    } catch {
      /* renegotiation would be needed; not expected for a sendonly video transceiver */
    }
    this.sendMediaState();
  }

  toggleVideo(): Promise<void> {
    return this.setVideoMuted(!this.local.getSnapshot().videoMuted);
  }

  /** Switch microphone or camera mid-call without renegotiating (replaceTrack). */
  async switchDevice(kind: "audioinput" | "videoinput", deviceId: string): Promise<void> {
    if (!this.md) return;
    const l = this.local.getSnapshot();
    if (kind === "audioinput") {
      this.local.patch({ audioDeviceId: deviceId });
      if (!l.audioTrack) return;
      const opened = await openDevice(this.md, "microphone", deviceId);
      if (opened.problem) this.local.patch({ micProblem: opened.problem });
      const track = opened.track;
      if (!track) return;
      track.enabled = !this.local.getSnapshot().audioMuted;
      await this.audioTx?.sender.replaceTrack(track);
      const old = this.local.getSnapshot().audioTrack;
      this.local.patch({ audioTrack: track, micProblem: null });
      if (old && old !== track) old.stop();
    } else {
      this.local.patch({ videoDeviceId: deviceId });
      if (!l.videoTrack) return;
      const opened = await openDevice(this.md, "camera", deviceId);
      if (opened.problem) this.local.patch({ cameraProblem: opened.problem });
      const track = opened.track;
      if (!track) return;
      await this.videoTx?.sender.replaceTrack(track);
      const old = this.local.getSnapshot().videoTrack;
      this.local.patch({ videoTrack: track, cameraProblem: null });
      if (old && old !== track) old.stop();
    }
    void this.refreshDevices();
  }

  get canShareScreen(): boolean {
    return typeof this.md?.getDisplayMedia === "function";
  }

  async startScreenShare(): Promise<void> {
    if (this.local.getSnapshot().screenTrack || !this.md?.getDisplayMedia) return;
    let track: MediaStreamTrack | null;
    try {
      const s = await this.md.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
      track = s.getVideoTracks()[0] ?? null;
    } catch (e) {
      this.local.patch({ screenProblem: classifyMediaError(e, "screen") });
      return;
    }
    if (!track) return;
    if ("contentHint" in track) track.contentHint = "detail";
    track.addEventListener("ended", () => void this.stopScreenShare());
    this.local.patch({ screenTrack: track, screenProblem: null });
    if (this.pub && this.pub.signalingState !== "closed") {
      this.attachScreen(this.pub, track);
      void this.negotiatePublish();
    }
    this.sendMediaState();
  }

  async stopScreenShare(): Promise<void> {
    const track = this.local.getSnapshot().screenTrack;
    if (!track) return;
    this.local.patch({ screenTrack: null });
    track.stop();
    const tx = this.screenTx;
    if (tx && this.pub && this.pub.signalingState !== "closed") {
      try {
        await tx.sender.replaceTrack(null);
        tx.direction = "inactive";
      } catch {
        /* ignore */
      }
      void this.negotiatePublish();
    }
    this.sendMediaState();
  }

  // ---------------------------------------------------------------- meeting

  /** Connect (if needed) and join with the current local media. */
  join(): void {
    const phase = this.state.getSnapshot().phase;
    if (phase === "joining" || phase === "joined" || phase === "reconnecting") return;
    this.state.set((s) => ({ ...initialMeetingState, chatOpen: s.chatOpen, phase: "joining" }));
    this.attachSignaling();
    if (this.signaling.isReady) this.sendJoin();
    else this.signaling.connect();
  }

  sendChat(text: string): boolean {
    const t = text.trim();
    if (!t) return false;
    return this.send({ type: "chat", text: t });
  }

  setChatOpen(open: boolean): void {
    this.state.set((s) => setChatOpen(s, open));
  }

  dismissNotice(): void {
    this.state.set((s) => (s.notice ? { ...s, notice: null } : s));
  }

  /**
   * What the page shows of remote videos (see `planTrackSettings`); only what changed since the
   * last call is sent. A new participation (not a resume) starts from the server's defaults,
   * so everything is sent again after one.
   */
  setTrackSettings(plan: TrackSetting[]): void {
    if (this.state.getSnapshot().phase !== "joined") return;
    const changed = changedSettings(this.sentTrackSettings, plan);
    if (changed.length === 0) return;
    if (this.send({ type: "track_settings", tracks: changed })) {
      for (const t of changed) this.sentTrackSettings.set(t.track_id, t);
    }
  }

  endMeeting(): void {
    this.send({ type: "end_meeting" });
  }

  /** Leave the meeting (the local media stays, for a possible re-join). */
  leave(): void {
    const phase = this.state.getSnapshot().phase;
    if (phase === "joined" || phase === "joining" || phase === "reconnecting") {
      this.send({ type: "leave" });
      this.state.set((s) => ({ ...s, phase: "left" }));
    }
    this.detachSignaling();
    this.signaling.close(CloseCode.Normal, "left");
    this.teardownPeers();
    this.resumeToken = null;
    this.releaseMedia();
  }

  /** Stop the camera, microphone and screen capture. */
  releaseMedia(): void {
    const l = this.local.getSnapshot();
    l.audioTrack?.stop();
    l.videoTrack?.stop();
    l.screenTrack?.stop();
    if (l.audioTrack || l.videoTrack || l.screenTrack) this.local.patch({ audioTrack: null, videoTrack: null, screenTrack: null });
  }

  /** Back to the pre-join screen after leaving or a failure (keeps device choices). */
  backToLobby(): void {
    this.leave();
    this.state.set({ ...initialMeetingState });
  }

  /** Leave and release everything (camera, microphone, screen). Safe to call twice. */
  dispose(): void {
    this.epoch++;
    this.acquiring = null;
    this.local.patch({ acquiring: false });
    this.leave();
  }

  // ---------------------------------------------------------------- signaling

  private attachSignaling(): void {
    if (this.unsubs.length) return;
    this.unsubs.push(
      this.signaling.onMessage((m) => this.handleMessage(m)),
      this.signaling.onReady(() => {
        const phase = this.state.getSnapshot().phase;
        if (phase === "joining" || phase === "joined" || phase === "reconnecting") this.sendJoin();
      }),
      this.signaling.onClosed((code, _reason, willReconnect) => this.handleClosed(code, willReconnect)),
    );
  }

  private detachSignaling(): void {
    for (const u of this.unsubs) u();
    this.unsubs = [];
  }

  private send(msg: ClientMessage): boolean {
    return this.signaling.send(msg);
  }

  private mediaState(): MediaState {
    const l = this.local.getSnapshot();
    return {
      audio_muted: l.audioMuted || !l.audioTrack,
      video_muted: l.videoMuted || !l.videoTrack,
      screen_sharing: !!l.screenTrack,
    };
  }

  private sendMediaState(): void {
    const phase = this.state.getSnapshot().phase;
    if (phase === "joined") this.send({ type: "media_state", ...this.mediaState() });
  }

  private sendJoin(): void {
    this.send({
      type: "join",
      meeting_code: this.code,
      ...(this.resumeToken ? { resume_token: this.resumeToken } : {}),
      media: this.mediaState(),
    });
  }

  private handleClosed(code: number, willReconnect: boolean): void {
    const phase = this.state.getSnapshot().phase;
    if (phase !== "joining" && phase !== "joined" && phase !== "reconnecting") return;
    if (willReconnect) {
      if (phase === "joined") this.state.set((s) => ({ ...s, phase: "reconnecting" }));
      this.answer.reject(new Error("connection lost"));
      return;
    }
    const next = closeFailure(code, this.state.getSnapshot());
    this.state.set((s) => ({ ...s, ...next }));
    this.teardownPeers();
    this.releaseMedia();
  }

  private handleMessage(msg: ServerMessage): void {
    this.state.set((s) => reduceServerMessage(s, msg));
    switch (msg.type) {
      case "joined":
        this.onJoined(msg);
        break;
      case "publish_answer":
        this.answer.resolve(msg.sdp);
        break;
      case "subscriber_offer":
        this.onSubscriberOffer(msg.sdp, msg.tracks);
        break;
      case "publish_layers": {
        const tx = this.pub?.getTransceivers().find((t) => t.mid === msg.mid);
        if (tx) void this.layers.apply(tx.sender, msg.active);
        break;
      }
      case "track_state":
        this.flows.set((f) => (f[msg.track_id] === msg.state ? f : { ...f, [msg.track_id]: msg.state }));
        break;
      case "active_speakers": {
        const st = this.state.getSnapshot();
        this.levels.set(applyActiveSpeakers(this.levels.getSnapshot(), msg.speakers, st.selfId, (id) => id in st.participants));
        break;
      }
      case "participant_left":
        this.remote.set((r) => {
          if (!(msg.participant_id in r)) return r;
          const next = { ...r };
          delete next[msg.participant_id];
          return next;
        });
        break;
      case "meeting_ended":
        this.detachSignaling();
        this.signaling.close(CloseCode.Normal, "meeting ended");
        this.teardownPeers();
        this.releaseMedia();
        break;
      case "error":
        if (NEGOTIATION_ERRORS.has(msg.code)) this.answer.reject(new Error(`${msg.code}: ${msg.message}`));
        if (msg.code === "resume_failed") {
          // Our participant is gone: join afresh as a new one.
          this.resumeToken = null;
          this.teardownPeers();
          this.sendJoin();
        } else if (this.state.getSnapshot().phase === "failed") {
          this.detachSignaling();
          this.signaling.close(CloseCode.Normal, msg.code);
          this.teardownPeers();
        }
        break;
      default:
        break;
    }
  }

  private onJoined(msg: ServerMessageOf<"joined">): void {
    if (!msg.resumed) this.sentTrackSettings.clear();
    this.resumeToken = msg.resume_token;
    this.iceServers = msg.ice_servers;
    if (msg.resumed && this.pub && this.pub.signalingState !== "closed") {
      // Same participant, new network path: restart ICE on both connections.
      void this.negotiatePublish(true);
      this.send({ type: "restart_subscriber" });
    } else {
      this.teardownPeers();
      this.setupPublish();
    }
    // Tell everyone our current state (it may have changed while we were away).
    this.sendMediaState();
  }

  // ---------------------------------------------------------------- publish connection

  private pcConfig(): RTCConfiguration {
    return { iceServers: toRtcIceServers(this.iceServers), bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" };
  }

  private setupPublish(): void {
    const pc = this.createPc(this.pcConfig());
    this.pub = pc;
    this.watchPeer(pc, "publish");
    const l = this.local.getSnapshot();
    const stream = new MediaStream();
    if (l.audioTrack) stream.addTrack(l.audioTrack);
    if (l.videoTrack) stream.addTrack(l.videoTrack);
    this.audioTx = pc.addTransceiver(l.audioTrack ?? "audio", { direction: "sendonly", streams: [stream] });
    this.sources.set(this.audioTx, "microphone");
    this.videoTx = pc.addTransceiver(l.videoTrack ?? "video", {
      direction: "sendonly",
      streams: [stream],
      sendEncodings: CAMERA_ENCODINGS.map((e) => ({ ...e })),
    });
    this.sources.set(this.videoTx, "camera");
    if (l.screenTrack) this.attachScreen(pc, l.screenTrack);
    void this.negotiatePublish();
  }

  private attachScreen(pc: RTCPeerConnection, track: MediaStreamTrack): void {
    const tx = this.screenTx;
    if (tx && !isStopped(tx) && this.sources.get(tx) === "screen_share") {
      void tx.sender.replaceTrack(track);
      tx.direction = "sendonly";
      return;
    }
    this.screenTx = pc.addTransceiver(track, { direction: "sendonly", streams: [new MediaStream([track])] });
    this.sources.set(this.screenTx, "screen_share");
  }

  /** What the current publish offer carries: active transceivers with a mid. */
  private declaredTracks(pc: RTCPeerConnection): TrackDecl[] {
    const out: TrackDecl[] = [];
    for (const tx of pc.getTransceivers()) {
      const source = this.sources.get(tx);
      if (!source || !tx.mid || isStopped(tx)) continue;
      if (tx.direction !== "sendonly" && tx.direction !== "sendrecv") continue;
      out.push({ mid: tx.mid, source });
    }
    return out;
  }

  /**
   * Offer on the publish connection. One offer is in flight at a time; requests made meanwhile
   * are coalesced into one more offer after it.
   */
  negotiatePublish(iceRestart = false): Promise<void> {
    if (iceRestart) this.pubRestartWanted = true;
    if (this.pubQueued) return this.pubQueued;
    const run = this.pubChain.then(async () => {
      this.pubQueued = null;
      const restart = this.pubRestartWanted;
      this.pubRestartWanted = false;
      await this.doPublishNegotiation(restart);
    });
    this.pubQueued = run;
    this.pubChain = run.catch((e: unknown) => {
      this.state.set((s) => ({
        ...s,
        notice: { code: "negotiation_failed", message: `Could not publish media: ${e instanceof Error ? e.message : String(e)}` },
      }));
    });
    return this.pubChain;
  }

  private async doPublishNegotiation(iceRestart: boolean): Promise<void> {
    const pc = this.pub;
    if (!pc || pc.signalingState === "closed") return;
    const offer = await pc.createOffer(iceRestart ? { iceRestart: true } : undefined);
    await pc.setLocalDescription(offer);
    const sdp = pc.localDescription?.sdp ?? offer.sdp ?? "";
    const answer = this.answer.next();
    if (!this.send({ type: "publish_offer", sdp, tracks: this.declaredTracks(pc) })) {
      this.answer.reject(new Error("not connected"));
    }
    let answerSdp: string;
    try {
      answerSdp = await answer;
    } catch (e) {
      if (this.pub === pc && pc.signalingState === "have-local-offer") {
        await pc.setLocalDescription({ type: "rollback" }).catch(() => undefined);
      }
      // After a reconnect the resume path negotiates again, so a lost answer is not an error.
      if (e instanceof Error && (e.message === "connection lost" || e.message === "not connected" || e.message === "closed")) return;
      throw e;
    }
    if (this.pub !== pc || pc.signalingState !== "have-local-offer") return;
    await pc.setRemoteDescription({ type: "answer", sdp: answerSdp });
  }

  // ---------------------------------------------------------------- subscribe connection

  private onSubscriberOffer(sdp: string, tracks: RemoteTrack[]): void {
    const run = this.subChain.then(async () => {
      if (!this.sub || this.sub.signalingState === "closed") {
        const pc = this.createPc(this.pcConfig());
        this.sub = pc;
        this.watchPeer(pc, "subscribe");
        pc.addEventListener("track", () => this.refreshRemoteMedia(this.subTracks));
      }
      const pc = this.sub;
      this.subTracks = tracks;
      await pc.setRemoteDescription({ type: "offer", sdp });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.send({ type: "subscriber_answer", sdp: pc.localDescription?.sdp ?? answer.sdp ?? "" });
      this.refreshRemoteMedia(tracks);
    });
    this.subChain = run.catch((e: unknown) => {
      this.state.set((s) => ({
        ...s,
        notice: { code: "negotiation_failed", message: `Could not receive media: ${e instanceof Error ? e.message : String(e)}` },
      }));
    });
  }

  /** Map the subscribe connection's receivers to participants by transceiver mid. */
  private refreshRemoteMedia(tracks?: RemoteTrack[]): void {
    const pc = this.sub;
    if (!pc) return;
    const list = tracks ?? Object.values(this.state.getSnapshot().remoteTracks);
    const merged = keepUnchanged(this.remote.getSnapshot(), remoteMediaOf(pc.getTransceivers(), list));
    if (merged) this.remote.set(merged);
  }

  private watchPeer(pc: RTCPeerConnection, kind: PcKind): void {
    this.peers.patch({ [kind]: pc.connectionState ?? "new" } as Partial<PeerStates>);
    pc.addEventListener("icecandidate", (ev: RTCPeerConnectionIceEvent) => {
      const c = ev.candidate;
      if (!c || !c.candidate) return;
      this.send({ type: "ice_candidate", pc: kind, candidate: c.candidate, ...(c.sdpMid ? { sdp_mid: c.sdpMid } : {}) });
    });
    pc.addEventListener("connectionstatechange", () => {
      const own = kind === "publish" ? this.pub === pc : this.sub === pc;
      if (!own) return;
      this.peers.patch({ [kind]: pc.connectionState } as Partial<PeerStates>);
      if (pc.connectionState === "failed" && this.signaling.isReady && this.state.getSnapshot().phase === "joined") {
        if (kind === "publish") void this.negotiatePublish(true);
        else this.send({ type: "restart_subscriber" });
      }
    });
  }

  private teardownPeers(): void {
    this.answer.reject(new Error("closed"));
    for (const pc of [this.pub, this.sub]) {
      try {
        pc?.close();
      } catch {
        /* ignore */
      }
    }
    this.pub = null;
    this.sub = null;
    this.sources.clear();
    this.audioTx = this.videoTx = this.screenTx = null;
    this.pubQueued = null;
    this.pubRestartWanted = false;
    this.peers.set({ publish: "none", subscribe: "none" });
    this.remote.set({});
    this.levels.set(NOBODY_SPEAKING);
    this.flows.set({});
  }

  /** Plain-data summary of both connections' RTP stats (debugging and the end-to-end test). */
  getStatsSummary(): ReturnType<typeof statsSummary> {
    return statsSummary(this.pub, this.sub, this.state.getSnapshot().remoteTracks, this.peers.getSnapshot());
  }
}
