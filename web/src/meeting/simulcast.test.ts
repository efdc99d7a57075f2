import { describe, expect, it, vi } from "vitest";
import { CAMERA_ENCODINGS, LayerSwitcher, withActiveLayers, type LayeredSender } from "./simulcast";

describe("withActiveLayers", () => {
  it("turns exactly the listed layers on", () => {
    const next = withActiveLayers(CAMERA_ENCODINGS, ["q"]);
    expect(next?.map((e) => [e.rid, e.active])).toEqual([
      ["q", undefined],
      ["h", false],
      ["f", false],
    ]);
    const back = withActiveLayers(next!, ["q", "h", "f"]);
    expect(back?.map((e) => e.active ?? true)).toEqual([true, true, true]);
  });

  it("says when nothing changes, and leaves an encoding without a RID alone", () => {
    expect(withActiveLayers(CAMERA_ENCODINGS, ["q", "h", "f"])).toBeNull();
    expect(withActiveLayers([{ maxBitrate: 1 }], [])).toBeNull();
  });
});

/** A sender whose setParameters resolves when the test says so, refusing stale parameters. */
class SlowSender implements LayeredSender {
  params: RTCRtpSendParameters = { encodings: CAMERA_ENCODINGS.map((e) => ({ ...e })), transactionId: "1" } as RTCRtpSendParameters;
  release: Array<() => void> = [];
  calls = 0;
  getParameters() {
    return structuredClone(this.params);
  }
  setParameters(p: RTCRtpSendParameters) {
    this.calls++;
    if (p.transactionId !== this.params.transactionId) return Promise.reject(new Error("stale parameters"));
    return new Promise<void>((resolve) =>
      this.release.push(() => {
        this.params = { ...p, transactionId: String(Number(p.transactionId) + 1) };
        resolve();
      }),
    );
  }
}

describe("LayerSwitcher", () => {
  it("applies messages one after the other, each on fresh parameters", async () => {
    const sender = new SlowSender();
    const switcher = new LayerSwitcher();
    const first = switcher.apply(sender, ["q"]);
    const second = switcher.apply(sender, ["q", "h"]);
    await Promise.resolve();
    await Promise.resolve();
    expect(sender.calls).toBe(1); // the second waits for the first
    sender.release.shift()!();
    await first;
    await vi.waitFor(() => expect(sender.calls).toBe(2));
    sender.release.shift()!();
    await second;
    expect(sender.params.encodings.map((e) => e.active ?? true)).toEqual([true, true, false]);
  });

  it("does not make one sender wait for another", async () => {
    const slow = new SlowSender();
    const quick = new SlowSender();
    const switcher = new LayerSwitcher();
    void switcher.apply(slow, ["q"]);
    const done = switcher.apply(quick, ["q"]);
    await vi.waitFor(() => expect(quick.calls).toBe(1));
    quick.release.shift()!();
    await done;
    expect(slow.release).toHaveLength(1); // still in flight
    expect(quick.params.encodings.map((e) => e.active ?? true)).toEqual([true, false, false]);
  });

  it("skips a sender that is gone", async () => {
    const gone: LayeredSender = {
      getParameters: () => {
        throw new Error("closed");
      },
      setParameters: () => Promise.resolve(),
    };
    await expect(new LayerSwitcher().apply(gone, ["q"])).resolves.toBeUndefined();
  });
});
