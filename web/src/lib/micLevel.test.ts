import { describe, expect, it } from "vitest";
import { micLevel } from "./micLevel";

const sine = (amplitude: number, n = 1024) => Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * i) / 64));

describe("micLevel", () => {
  it("is 0 for silence and an empty window, 100 at full scale", () => {
    expect(micLevel([])).toBe(0);
    expect(micLevel(new Float32Array(512))).toBe(0);
    expect(micLevel(Array(512).fill(1))).toBe(100);
  });

  it("maps -60..0 dBFS onto the bar", () => {
    // A sine of amplitude a has RMS a/sqrt(2): 0.0014 is about -60 dBFS, 0.045 about -30.
    expect(micLevel(sine(0.0014))).toBeLessThanOrEqual(1);
    const mid = micLevel(sine(0.045));
    expect(mid).toBeGreaterThan(40);
    expect(mid).toBeLessThan(55);
    expect(micLevel(sine(0.5))).toBeGreaterThan(micLevel(sine(0.05)));
  });
});
