import type { ClientMessage, IceServer, MediaState, PcKind, RemoteTrack, ServerMessage, ServerMessageOf, TrackFlow, TrackSetting } from "../protocol";
import { CloseCode } from "../protocol";
import { Store } from "../lib/store";
import { changedSettings } from "../lib/trackSettings";
import { classifyMediaError } from "./media";
import { deviceIdOf, listDevices, openDevice, openMicAndCamera } from "./capture";
import type { SignalingConnection } from "./signaling";
import { applyActiveSpeakers, NOBODY_SPEAKING, type LevelsState } from "./speakers";
import { initialMeetingState, isActive, reduceServerMessage, setChatOpen, type MeetingState } from "./state";
import { HostControls } from "./hostControls";
import type { DeviceOption, LocalState, MediaDevicesLike, PeerConnectionFactory, PeerStates, RemoteMedia } from "./clientTypes";
import { closeFailure, statsSummary, toRtcIceServers } from "./clientHelpers";
import { PublishConnection } from "./PublishConnection";
import { SubscribeConnection } from "./SubscribeConnection";
import type { Quality } from "./connectionQuality";
import { QualityMonitor } from "./qualityMonitor";

export type { DeviceOption, LocalState, MediaDevicesLike, PeerConnectionFactory, PeerStates, RemoteMedia };

export interface MeetingClientOptions {
  signaling: SignalingConnection;
  meetingCode: string;
  createPeerConnection?: PeerConnectionFactory;
  mediaDevices?: MediaDevicesLike | null;
  /** How long to wait for a publish_answer. */
  negotiationTimeoutMs?: number;
  /** What to start with (the participant's remembered choices); else both on, default devices. */
  initial?: Partial<Pick<LocalState, "audioMuted" | "videoMuted" | "audioDeviceId" | "videoDeviceId" | "audioOutputId">>;
  /** How long a reaction stays on its tile (tests shorten it). */
  reactionTtlMs?: number;
  now?: () => number;
}

const NEGOTIATION_ERRORS = new Set(["negotiation_failed", "sdp_too_large", "too_many_tracks", "bad_message"]);

/**
 * The meeting's WebRTC and signaling state, outside React. React reads it through the stores
 * (`state`, `local`, `remote`, `levels`, `peers`) with useSyncExternalStore, so a stats tick only
 * re-renders the components that select what changed.
 *
 * Two peer connections, each with one offerer: `publish` (we offer our tracks, the SFU answers;
 * `PublishConnection`) and `subscribe` (the SFU offers everybody else's tracks, we answer;
 * `SubscribeConnection`). This class holds the meeting's state machine and the local media;
 * the host and co-host requests, hands and reactions are in `HostControls`, which it extends.
 */
export class MeetingClient extends HostControls {
  readonly code: string;
  readonly state = new Store<MeetingState>(initialMeetingState);
  readonly local: Store<LocalState>;
  readonly remote = new Store<Record<number, RemoteMedia>>({});
  readonly levels = new Store<LevelsState>(NOBODY_SPEAKING);
  /** What flows of each remote video (`track_state`), by track id. */
  readonly flows = new Store<Record<string, TrackFlow>>({});
  readonly peers = new Store<PeerStates>({ publish: "none", subscribe: "none" });
  /** Connection quality by participant id and "self", graded every few seconds while joined. */
  readonly quality = new Store<Record<string, Quality>>({});

  private readonly signaling: SignalingConnection;
  private readonly createPc: PeerConnectionFactory;
  private readonly md: MediaDevicesLike | null;

  private readonly answerTimeoutMs: number;
  private pub: PublishConnection | null = null;
  private sub: SubscribeConnection | null = null;
  private iceServers: IceServer[] = [];
  private resumeToken: string | null = null;
  /** The `track_settings` the server has, by track id. */
  private readonly sentTrackSettings = new Map<string, TrackSetting>();
  private acquiring: Promise<void> | null = null;
  private epoch = 0;
  private unsubs: Array<() => void> = [];
  private readonly qualityMonitor = new QualityMonitor(this.quality, () => {
    const st = this.state.getSnapshot();
    const peers = this.peers.getSnapshot();
    const down = (s: string) => s === "disconnected" || s === "failed";
    return {
      publish: this.pub?.pc ?? null,
      subscribe: this.sub?.pc ?? null,
      tracks: st.remoteTracks,
      participants: st.participants,
      flows: this.flows.getSnapshot(),
      selfDown: st.phase === "reconnecting" || down(peers.publish) || down(peers.subscribe),
    };
  });

  constructor(opts: MeetingClientOptions) {
    super(opts.reactionTtlMs, opts.now);
    this.code = opts.meetingCode;
    this.signaling = opts.signaling;
    this.createPc = opts.createPeerConnection ?? ((c) => new RTCPeerConnection(c));
    this.md = opts.mediaDevices === undefined ? (typeof navigator !== "undefined" ? navigator.mediaDevices ?? null : null) : opts.mediaDevices;
    this.answerTimeoutMs = opts.negotiationTimeoutMs ?? 15_000;
    this.local = new Store<LocalState>({
      audioTrack: null,
      videoTrack: null,
      screenTrack: null,
      audioMuted: opts.initial?.audioMuted ?? false,
      videoMuted: opts.initial?.videoMuted ?? false,
      audioDeviceId: opts.initial?.audioDeviceId ?? null,
      audioOutputId: opts.initial?.audioOutputId ?? null,
      videoDeviceId: opts.initial?.videoDeviceId ?? null,
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
        audioDeviceId: deviceIdOf(audio, cur.audioDeviceId),
        videoDeviceId: deviceIdOf(video, cur.videoDeviceId),
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
      const asked = this.local.getSnapshot().audioDeviceId;
      const opened = await openDevice(this.md, "microphone", asked);
      if (opened.problem) this.local.patch({ micProblem: opened.problem });
      track = opened.track;
      if (!track) return;
      this.local.patch({ audioTrack: track, micProblem: null, audioDeviceId: deviceIdOf(track, asked) });
      await this.pub?.replaceTrack("microphone", track);
    }
    if (track) track.enabled = !muted;
    this.local.patch({ audioMuted: muted });
    this.sendMediaState();
  }

  /** Plays remote audio on this output from now on (the audio elements apply it). */
  setAudioOutput(deviceId: string | null): void {
    this.local.patch({ audioOutputId: deviceId || null });
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
        await this.pub?.replaceTrack("camera", null);
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
    this.local.patch({ videoTrack: track, videoMuted: false, cameraProblem: null, videoDeviceId: deviceIdOf(track, l.videoDeviceId) });
    try {
      await this.pub?.replaceTrack("camera", track);
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
      await this.pub?.replaceTrack("microphone", track);
      const old = this.local.getSnapshot().audioTrack;
      this.local.patch({ audioTrack: track, micProblem: null, audioDeviceId: deviceIdOf(track, deviceId) });
      if (old && old !== track) old.stop();
    } else {
      this.local.patch({ videoDeviceId: deviceId });
      if (!l.videoTrack) return;
      const opened = await openDevice(this.md, "camera", deviceId);
      if (opened.problem) this.local.patch({ cameraProblem: opened.problem });
      const track = opened.track;
      if (!track) return;
      await this.pub?.replaceTrack("camera", track);
      const old = this.local.getSnapshot().videoTrack;
      this.local.patch({ videoTrack: track, cameraProblem: null, videoDeviceId: deviceIdOf(track, deviceId) });
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
    this.pub?.shareScreen(track);
    this.sendMediaState();
  }

  async stopScreenShare(): Promise<void> {
    const track = this.local.getSnapshot().screenTrack;
    if (!track) return;
    this.local.patch({ screenTrack: null });
    track.stop();
    await this.pub?.stopScreen();
    this.sendMediaState();
  }

  // ---------------------------------------------------------------- meeting

  /** Connect (if needed) and join with the current local media. */
  join(): void {
    if (isActive(this.state.getSnapshot().phase)) return;
    this.state.set((s) => ({ ...initialMeetingState, chatOpen: s.chatOpen, phase: "joining" }));
    this.connect();
  }

  /**
   * "Rejoin" after leaving or a failure: straight back into the meeting (joining at once, no
   * pre-join) with the microphone and camera as they were. Leaving or failing released them, so
   * they are opened again, except a camera that was off; a muted microphone opens muted.
   */
  async rejoin(): Promise<void> {
    const { phase, removal } = this.state.getSnapshot();
    // Removed without being kept out: the user may come back, but only when it asks to.
    if (phase !== "left" && phase !== "failed" && !(phase === "removed" && !removal?.banned)) return;
    this.leave();
    this.state.set((s) => ({ ...initialMeetingState, chatOpen: s.chatOpen, phase: "joining" }));
    const epoch = this.epoch;
    await this.acquireMedia();
    // Left again (or the page went) while the devices opened.
    if (epoch !== this.epoch || this.state.getSnapshot().phase !== "joining") return;
    this.connect();
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

  /** The host or a co-host ends the meeting for everyone. */
  endMeeting(): void {
    this.send({ type: "end_meeting" });
  }

  /** Leave the meeting, or stop waiting in its lobby. */
  leave(): void {
    if (isActive(this.state.getSnapshot().phase)) {
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

  /** Leave and release everything (camera, microphone, screen). Safe to call twice. */
  dispose(): void {
    this.epoch++;
    this.clearReactionTimers();
    this.acquiring = null;
    this.local.patch({ acquiring: false });
    this.leave();
  }

  // ---------------------------------------------------------------- signaling

  /** The signaling connection up (if it is not), then `join`. */
  private connect(): void {
    this.attachSignaling();
    if (this.signaling.isReady) this.sendJoin();
    else this.signaling.connect();
  }

  /** Over for good (ended, or a failure such as being replaced): closed, and the devices released. */
  private shutDown(reason: string): void {
    this.detachSignaling();
    this.signaling.close(CloseCode.Normal, reason);
    this.teardownPeers();
    this.releaseMedia();
  }

  private attachSignaling(): void {
    if (this.unsubs.length) return;
    this.unsubs.push(
      this.signaling.onMessage((m) => this.handleMessage(m)),
      // Back after a drop: a waiter asks again (the server forgot its place in the lobby).
      this.signaling.onReady(() => isActive(this.state.getSnapshot().phase) && this.sendJoin()),
      this.signaling.onClosed((code, _reason, willReconnect) => this.handleClosed(code, willReconnect)),
    );
  }

  private detachSignaling(): void {
    for (const u of this.unsubs) u();
    this.unsubs = [];
  }

  protected send(msg: ClientMessage): boolean {
    return this.signaling.send(msg);
  }

  protected mediaState(): MediaState {
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
    if (!isActive(phase)) return;
    if (willReconnect) {
      if (phase === "joined") this.state.set((s) => ({ ...s, phase: "reconnecting" }));
      this.pub?.answerFailed(new Error("connection lost"));
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
        this.pub?.answered(msg.sdp);
        break;
      case "subscriber_offer":
        this.onSubscriberOffer(msg.sdp, msg.tracks);
        break;
      case "publish_layers":
        this.pub?.applyLayers(msg.mid, msg.active);
        break;
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
        this.shutDown("meeting ended");
        break;
      case "removed":
        // The server closes with 4012 next; closing first means nothing reconnects.
        this.shutDown("removed");
        break;
      case "muted_by_host":
      case "unmute_requested":
      case "reaction":
        this.onModeration(msg);
        break;
      case "error":
        if (NEGOTIATION_ERRORS.has(msg.code)) this.pub?.answerFailed(new Error(`${msg.code}: ${msg.message}`));
        if (msg.code === "resume_failed") {
          // Our participant is gone: join afresh as a new one.
          this.resumeToken = null;
          this.teardownPeers();
          this.sendJoin();
        } else if (this.state.getSnapshot().phase === "failed" || this.state.getSnapshot().phase === "ended") {
          // "ended": a (re)join found the meeting over.
          this.shutDown(msg.code);
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
    if (msg.resumed && this.pub?.isOpen) {
      // Same participant, new network path: restart ICE on both connections.
      void this.pub.negotiate(true);
      this.send({ type: "restart_subscriber" });
    } else {
      this.teardownPeers();
      this.setupPublish();
    }
    this.qualityMonitor.start();
    // Tell everyone our current state (it may have changed while we were away).
    this.sendMediaState();
  }

  // ---------------------------------------------------------------- peer connections

  private pcConfig(): RTCConfiguration {
    return { iceServers: toRtcIceServers(this.iceServers), bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" };
  }

  private setupPublish(): void {
    const pc = this.createPc(this.pcConfig());
    this.pub = new PublishConnection(pc, this.local.getSnapshot(), {
      send: (m) => this.send(m),
      answerTimeoutMs: this.answerTimeoutMs,
      onFailure: (message) => this.notify("negotiation_failed", message),
    });
    this.watchPeer(pc, "publish");
    void this.pub.negotiate();
  }

  private onSubscriberOffer(sdp: string, tracks: RemoteTrack[]): void {
    if (!this.sub?.isOpen) {
      const pc = this.createPc(this.pcConfig());
      this.sub = new SubscribeConnection(pc, {
        send: (m) => this.send(m),
        remote: this.remote,
        onFailure: (message) => this.notify("negotiation_failed", message),
      });
      this.watchPeer(pc, "subscribe");
    }
    this.sub.offer(sdp, tracks);
  }

  private notify(code: string, message: string): void {
    this.state.set((s) => ({ ...s, notice: { code, message } }));
  }

  private watchPeer(pc: RTCPeerConnection, kind: PcKind): void {
    this.peers.patch({ [kind]: pc.connectionState ?? "new" } as Partial<PeerStates>);
    pc.addEventListener("icecandidate", (ev: RTCPeerConnectionIceEvent) => {
      const c = ev.candidate;
      if (!c || !c.candidate) return;
      this.send({ type: "ice_candidate", pc: kind, candidate: c.candidate, ...(c.sdpMid ? { sdp_mid: c.sdpMid } : {}) });
    });
    pc.addEventListener("connectionstatechange", () => {
      const own = (kind === "publish" ? this.pub : this.sub)?.pc === pc;
      if (!own) return;
      this.peers.patch({ [kind]: pc.connectionState } as Partial<PeerStates>);
      if (pc.connectionState === "failed" && this.signaling.isReady && this.state.getSnapshot().phase === "joined") {
        if (kind === "publish") void this.pub?.negotiate(true);
        else this.send({ type: "restart_subscriber" });
      }
    });
  }

  private teardownPeers(): void {
    this.pub?.close();
    this.sub?.close();
    this.pub = null;
    this.sub = null;
    this.peers.set({ publish: "none", subscribe: "none" });
    this.qualityMonitor.stop();
    this.remote.set({});
    this.levels.set(NOBODY_SPEAKING);
    this.flows.set({});
  }

  /** Plain-data summary of both connections' RTP stats (debugging and the end-to-end test). */
  getStatsSummary(): ReturnType<typeof statsSummary> {
    return statsSummary(this.pub?.pc ?? null, this.sub?.pc ?? null, this.state.getSnapshot().remoteTracks, this.peers.getSnapshot());
  }
}
