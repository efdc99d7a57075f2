import { describe, expect, it } from "vitest";
import { applyActiveSpeakers, NOBODY_SPEAKING } from "./speakers";

const present = (ids: number[]) => (id: number) => ids.includes(id);

describe("applyActiveSpeakers", () => {
  it("marks the speakers, ourselves as self, and puts the loudest other on the big tile", () => {
    const s = applyActiveSpeakers(
      NOBODY_SPEAKING,
      [
        { participant_id: 1, level: 80 },
        { participant_id: 3, level: 40 },
        { participant_id: 2, level: 20 },
      ],
      1,
      present([1, 2, 3]),
    );
    expect(s).toEqual({ speaking: { self: true, "3": true, "2": true }, activeSpeaker: 3 });
  });

  it("keeps the last speaker on the big tile while nobody speaks, until they leave", () => {
    const talking = applyActiveSpeakers(NOBODY_SPEAKING, [{ participant_id: 2, level: 50 }], 1, present([1, 2]));
    const quiet = applyActiveSpeakers(talking, [], 1, present([1, 2]));
    expect(quiet).toEqual({ speaking: {}, activeSpeaker: 2 });
    expect(applyActiveSpeakers(quiet, [], 1, present([1]))).toEqual(NOBODY_SPEAKING);
  });

  it("returns the same state when nothing changed, so no tile re-renders", () => {
    const a = applyActiveSpeakers(NOBODY_SPEAKING, [{ participant_id: 2, level: 50 }], 1, present([1, 2]));
    const b = applyActiveSpeakers(a, [{ participant_id: 2, level: 70 }], 1, present([1, 2]));
    expect(b).toBe(a);
  });

  it("ignores a speaker that is not (or no longer) in the roster for the big tile", () => {
    const s = applyActiveSpeakers(NOBODY_SPEAKING, [{ participant_id: 9, level: 50 }], 1, present([1, 2]));
    expect(s.activeSpeaker).toBeNull();
  });
});
