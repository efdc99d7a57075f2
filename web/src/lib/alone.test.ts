import { describe, expect, it } from "vitest";
import { isAlone } from "./alone";

describe("isAlone", () => {
  it("is true in the meeting with nobody else, also while reconnecting", () => {
    expect(isAlone({ phase: "joined", order: [] })).toBe(true);
    expect(isAlone({ phase: "reconnecting", order: [] })).toBe(true);
  });

  it("is false once someone else is there, and outside the meeting", () => {
    expect(isAlone({ phase: "joined", order: [7] })).toBe(false);
    for (const phase of ["idle", "joining", "left", "ended", "failed"] as const) expect(isAlone({ phase, order: [] })).toBe(false);
  });
});
