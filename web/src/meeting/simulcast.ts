/**
 * The camera is published as three simulcast layers, lowest first as browsers list them: a
 * quarter, half and full size. The server forwards each subscriber the smallest layer that
 * covers its tile (and what its bandwidth fits), and pauses a layer nobody wants
 * (`publish_layers`), which the client applies by deactivating that encoding. Screen shares
 * stay one layer: text must stay sharp, and there are few of them.
 */
export const CAMERA_ENCODINGS: readonly RTCRtpEncodingParameters[] = [
  { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "f", maxBitrate: 1_500_000 },
];

/**
 * `encodings` with exactly the RIDs in `active` sending; `null` when that is already so (no
 * `setParameters` needed). Encodings without a RID (no simulcast) are left alone.
 */
export function withActiveLayers(
  encodings: readonly RTCRtpEncodingParameters[],
  active: readonly string[],
): RTCRtpEncodingParameters[] | null {
  let changed = false;
  const next = encodings.map((e) => {
    if (!e.rid) return e;
    const on = active.includes(e.rid);
    if ((e.active ?? true) === on) return e;
    changed = true;
    return { ...e, active: on };
  });
  return changed ? next : null;
}

/** The parts of `RTCRtpSender` dynacast needs (tests pass a fake). */
export interface LayeredSender {
  getParameters(): RTCRtpSendParameters;
  setParameters(parameters: RTCRtpSendParameters): Promise<void>;
}

/**
 * Applies `publish_layers` one message at a time per sender, in order: a message that arrives
 * while that sender's `setParameters` is in flight applies after it, since the browser refuses
 * parameters read before another change landed. Senders do not wait for each other. A sender
 * that is gone (connection closed) is skipped.
 */
export class LayerSwitcher {
  private readonly chains = new WeakMap<LayeredSender, Promise<void>>();

  apply(sender: LayeredSender, active: readonly string[]): Promise<void> {
    const next = (this.chains.get(sender) ?? Promise.resolve()).then(async () => {
      try {
        const params = sender.getParameters();
        const encodings = withActiveLayers(params.encodings ?? [], active);
        if (encodings) await sender.setParameters({ ...params, encodings });
      } catch {
        /* the sender is gone: nothing to pause */
      }
    });
    this.chains.set(sender, next);
    return next;
  }
}
