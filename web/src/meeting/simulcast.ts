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
 * Applies `publish_layers` to one sender at a time, in order: a message that arrives while a
 * `setParameters` is in flight applies after it, since the browser refuses parameters read
 * before another change landed. A sender that is gone (camera replaced, connection closed) is
 * skipped.
 */
export class LayerSwitcher {
  private chain: Promise<void> = Promise.resolve();

  apply(sender: LayeredSender, active: readonly string[]): Promise<void> {
    this.chain = this.chain.then(async () => {
      try {
        const params = sender.getParameters();
        const next = withActiveLayers(params.encodings ?? [], active);
        if (next) await sender.setParameters({ ...params, encodings: next });
      } catch {
        /* the sender is gone: nothing to pause */
      }
    });
    return this.chain;
  }
}
