import type { ClientMessage, RemoteTrack } from "../protocol";
import type { Store } from "../lib/store";
import { keepUnchanged, remoteMediaOf } from "./clientHelpers";
import type { RemoteMedia } from "./clientTypes";

export interface SubscribeDeps {
  send(msg: ClientMessage): boolean;
  /** The received tracks by participant, kept up to date from this connection's receivers. */
  remote: Store<Record<number, RemoteMedia>>;
  /** An offer could not be applied (told to the participant). */
  onFailure(message: string): void;
}

/**
 * The subscribe connection: the SFU offers everybody else's tracks, we answer. Offers are
 * applied one after the other; each carries the table of which mid is whose media.
 */
export class SubscribeConnection {
  private chain: Promise<void> = Promise.resolve();
  /** The mid table of the offer being applied. */
  private tracks: RemoteTrack[] = [];

  constructor(
    readonly pc: RTCPeerConnection,
    private readonly deps: SubscribeDeps,
  ) {
    pc.addEventListener("track", () => this.refreshMedia());
  }

  get isOpen(): boolean {
    return this.pc.signalingState !== "closed";
  }

  /** The server's `subscriber_offer`. */
  offer(sdp: string, tracks: RemoteTrack[]): void {
    const run = this.chain.then(async () => {
      if (!this.isOpen) return;
      const pc = this.pc;
      this.tracks = tracks;
      await pc.setRemoteDescription({ type: "offer", sdp });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.deps.send({ type: "subscriber_answer", sdp: pc.localDescription?.sdp ?? answer.sdp ?? "" });
      this.refreshMedia();
    });
    // An offer cut short by closing the connection (a fresh join) is no failure.
    this.chain = run.catch((e: unknown) => {
      if (this.isOpen) this.deps.onFailure(`Could not receive media: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  close(): void {
    try {
      this.pc.close();
    } catch {
      /* ignore */
    }
  }

  /** Map the receivers to participants by transceiver mid. */
  private refreshMedia(): void {
    if (!this.isOpen) return;
    const merged = keepUnchanged(this.deps.remote.getSnapshot(), remoteMediaOf(this.pc.getTransceivers(), this.tracks));
    if (merged) this.deps.remote.set(merged);
  }
}
