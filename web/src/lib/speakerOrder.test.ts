import { describe, expect, it } from "vitest";
import { arrange, EMPTY_ORDER } from "./speakerOrder";

const keys = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);

describe("arrange (speakers on the first page)", () => {
  it("keeps the natural order while nobody speaks, and appends newcomers", () => {
    const a = arrange(EMPTY_ORDER, keys(5), [], 4);
    expect(a.order).toEqual(keys(5));
    const b = arrange(a, [...keys(5), "p5"], [], 4);
    expect(b.order).toEqual([...keys(5), "p5"]);
  });

  it("brings a speaker from a later page into the first, in the place of who spoke least recently", () => {
    let s = arrange(EMPTY_ORDER, keys(8), ["p1"], 4); // p1 spoke: it stays
    s = arrange(s, keys(8), ["p0"], 4);
    s = arrange(s, keys(8), ["p2", "p3"], 4);
    // p6 speaks: p1 spoke longest ago of the first page.
    s = arrange(s, keys(8), ["p6"], 4);
    expect(s.order.slice(0, 4)).toEqual(["p0", "p6", "p2", "p3"]);
    expect(s.order.indexOf("p1")).toBe(6);
  });

  it("does not move anyone while the speakers are in view", () => {
    const s = arrange(arrange(EMPTY_ORDER, keys(8), [], 4), keys(8), ["p2"], 4);
    expect(s.order).toEqual(keys(8));
  });

  it("never moves a fixed tile out, and stops when the first page is all speakers", () => {
    const fixed = (k: string) => k !== "screen";
    const all = ["screen", ...keys(6)];
    let s = arrange(EMPTY_ORDER, all, ["p5"], 3, fixed);
    expect(s.order[0]).toBe("screen");
    expect(s.order.slice(0, 3)).toContain("p5");
    s = arrange(s, all, ["p0", "p1", "p2", "p3"], 3, fixed);
    expect(s.order[0]).toBe("screen");
    expect(s.order.slice(1, 3).every((k) => ["p0", "p1", "p2", "p3"].includes(k))).toBe(true);
  });

  it("forgets who left", () => {
    const s = arrange(arrange(EMPTY_ORDER, keys(3), ["p2"], 2), ["p0", "p1"], [], 2);
    expect(s.order).toEqual(["p0", "p1"]);
    expect(s.lastSpoke).toEqual({});
  });
});
