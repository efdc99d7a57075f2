import { describe, expect, it } from "vitest";
import { rowWindow } from "./virtualList";

describe("rowWindow", () => {
  it("renders what fills the viewport plus overscan, padding the rest", () => {
    const w = rowWindow(200, 48, 0, 480, 4);
    expect(w).toEqual({ start: 0, end: 15, padTop: 0, padBottom: 185 * 48 });
  });

  it("follows the scroll position and keeps the total height", () => {
    const w = rowWindow(200, 48, 48 * 100, 480, 4);
    expect(w.start).toBe(96);
    expect(w.end).toBe(115);
    expect(w.padTop + (w.end - w.start) * 48 + w.padBottom).toBe(200 * 48);
  });

  it("clamps at the end, for short lists and for an unmeasured viewport", () => {
    expect(rowWindow(200, 48, 48 * 500, 480, 4)).toMatchObject({ end: 200, padBottom: 0 });
    expect(rowWindow(3, 48, 0, 480)).toEqual({ start: 0, end: 3, padTop: 0, padBottom: 0 });
    expect(rowWindow(100, 48, 0, 0, 0, 20)).toMatchObject({ start: 0, end: 20 });
    expect(rowWindow(0, 48, 0, 480)).toEqual({ start: 0, end: 0, padTop: 0, padBottom: 0 });
  });
});
