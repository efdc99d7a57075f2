import type { ClientMessage, TrackDecl, TrackSource } from "../protocol";
import { AnswerWait } from "./answerWait";
import { isStopped } from "./clientHelpers";
import type { LocalState } from "./clientTypes";
import { CAMERA_ENCODINGS, LayerSwitcher } from "./simulcast";

export interface PublishDeps {
  send(msg: ClientMessage): boolean;
  /** How long to wait for a publish_answer. */
  answerTimeoutMs: number;
  /** An offer failed for another reason than a lost connection (told to the participant). */
  onFailure(message: string): void;
}

/** Why an offer's answer never came when a later negotiation (the resume's) makes up for it. */
const LOST = new Set(["connection lost", "not connected", "closed"]);

/**
 * The publish connection: we offer our microphone, camera and screen share, the SFU answers.
 * The microphone and camera transceivers live as long as the connection: turning the camera off
 * and on or switching devices only replaces their track, and a sender keeps its encodings
 * through `replaceTrack`, so the camera stays simulcast (`CAMERA_ENCODINGS`) whatever happens
 * to the device.
 */
export class PublishConnection {
  private readonly sources = new Map<RTCRtpTransceiver, TrackSource>();
  private readonly audioTx: RTCRtpTransceiver;
  private readonly videoTx: RTCRtpTransceiver;
  private screenTx: RTCRtpTransceiver | null = null;
  private readonly answer: AnswerWait;
  /** Dynacast: which camera layers the server wants sent (`publish_layers`). */
  private readonly layers = new LayerSwitcher();
  private chain: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;
  private restartWanted = false;

  constructor(
    readonly pc: RTCPeerConnection,
    media: Pick<LocalState, "audioTrack" | "videoTrack" | "screenTrack">,
    private readonly deps: PublishDeps,
  ) {
    this.answer = new AnswerWait(deps.answerTimeoutMs);
    const stream = new MediaStream();
    if (media.audioTrack) stream.addTrack(media.audioTrack);
    if (media.videoTrack) stream.addTrack(media.videoTrack);
    this.audioTx = pc.addTransceiver(media.audioTrack ?? "audio", { direction: "sendonly", streams: [stream] });
    this.sources.set(this.audioTx, "microphone");
    this.videoTx = pc.addTransceiver(media.videoTrack ?? "video", {
      direction: "sendonly",
      streams: [stream],
      sendEncodings: CAMERA_ENCODINGS.map((e) => ({ ...e })),
    });
    this.sources.set(this.videoTx, "camera");
    if (media.screenTrack) this.attachScreen(media.screenTrack);
  }

  get isOpen(): boolean {
    return this.pc.signalingState !== "closed";
  }

  /** The microphone or camera track to send (`null`: nothing, without renegotiating). */
  replaceTrack(source: "microphone" | "camera", track: MediaStreamTrack | null): Promise<void> {
    return (source === "microphone" ? this.audioTx : this.videoTx).sender.replaceTrack(track);
  }

  shareScreen(track: MediaStreamTrack): void {
    if (!this.isOpen) return;
    this.attachScreen(track);
    void this.negotiate();
  }

  async stopScreen(): Promise<void> {
    const tx = this.screenTx;
    if (!tx || !this.isOpen) return;
    try {
      await tx.sender.replaceTrack(null);
      tx.direction = "inactive";
    } catch {
      /* ignore */
    }
    void this.negotiate();
  }

  /** The server's `publish_layers` for the track on `mid`. */
  applyLayers(mid: string, active: string[]): void {
    const tx = this.pc.getTransceivers().find((t) => t.mid === mid);
    if (tx) void this.layers.apply(tx.sender, active);
  }

  /** The server's `publish_answer`. */
  answered(sdp: string): void {
    this.answer.resolve(sdp);
  }

  /** The offer in flight gets no answer (refused, or the signaling connection dropped). */
  answerFailed(err: Error): void {
    this.answer.reject(err);
  }

  /**
   * Offer on the publish connection. One offer is in flight at a time; requests made meanwhile
   * are coalesced into one more offer after it.
   */
  negotiate(iceRestart = false): Promise<void> {
    if (iceRestart) this.restartWanted = true;
    if (this.queued) return this.queued;
    const run = this.chain.then(async () => {
      this.queued = null;
      const restart = this.restartWanted;
      this.restartWanted = false;
      await this.offer(restart);
    });
    this.chain = run.catch((e: unknown) => this.deps.onFailure(`Could not publish media: ${e instanceof Error ? e.message : String(e)}`));
    this.queued = this.chain;
    return this.chain;
  }

  close(): void {
    this.answer.reject(new Error("closed"));
    try {
      this.pc.close();
    } catch {
      /* ignore */
    }
  }

  private attachScreen(track: MediaStreamTrack): void {
    const tx = this.screenTx;
    if (tx && !isStopped(tx)) {
      void tx.sender.replaceTrack(track);
      tx.direction = "sendonly";
      return;
    }
    this.screenTx = this.pc.addTransceiver(track, { direction: "sendonly", streams: [new MediaStream([track])] });
    this.sources.set(this.screenTx, "screen_share");
  }

  /** What the current offer carries: active transceivers with a mid. */
  private declaredTracks(): TrackDecl[] {
    const out: TrackDecl[] = [];
    for (const tx of this.pc.getTransceivers()) {
      const source = this.sources.get(tx);
      if (!source || !tx.mid || isStopped(tx)) continue;
      if (tx.direction !== "sendonly" && tx.direction !== "sendrecv") continue;
      out.push({ mid: tx.mid, source });
    }
    return out;
  }

  private async offer(iceRestart: boolean): Promise<void> {
    const pc = this.pc;
    if (!this.isOpen) return;
    const offer = await pc.createOffer(iceRestart ? { iceRestart: true } : undefined);
    await pc.setLocalDescription(offer);
    const sdp = pc.localDescription?.sdp ?? offer.sdp ?? "";
    const answer = this.answer.next();
    if (!this.deps.send({ type: "publish_offer", sdp, tracks: this.declaredTracks() })) {
      this.answer.reject(new Error("not connected"));
    }
    let answerSdp: string;
    try {
      answerSdp = await answer;
    } catch (e) {
      if (pc.signalingState === "have-local-offer") await pc.setLocalDescription({ type: "rollback" }).catch(() => undefined);
      // After a reconnect the resume path negotiates again, so a lost answer is not an error.
      if (e instanceof Error && LOST.has(e.message)) return;
      throw e;
    }
    if (pc.signalingState !== "have-local-offer") return;
    await pc.setRemoteDescription({ type: "answer", sdp: answerSdp });
  }
}
