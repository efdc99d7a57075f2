import { describe, expect, it, vi } from "vitest";
import { Store } from "./store";

describe("Store", () => {
  it("notifies subscribers on change only, and unsubscribes", () => {
    const s = new Store({ a: 1, b: "x" });
    const fn = vi.fn();
    const off = s.subscribe(fn);
    const before = s.getSnapshot();
    s.set((p) => p); // same object: no notification
    expect(fn).not.toHaveBeenCalled();
    s.patch({ a: 2 });
    expect(fn).toHaveBeenCalledTimes(1);
    expect(s.getSnapshot()).toEqual({ a: 2, b: "x" });
    expect(before).toEqual({ a: 1, b: "x" }); // immutable snapshots
    off();
    s.patch({ a: 3 });
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
