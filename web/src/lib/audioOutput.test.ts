import { describe, expect, it } from "vitest";
import { canChooseOutput, effectiveOutput, outputOptions } from "./audioOutput";

const outputs = [
  { deviceId: "default", label: "Default - Speakers" },
  { deviceId: "spk", label: "Speakers" },
  { deviceId: "hp", label: "Headphones" },
];

describe("audio output", () => {
  it("can be chosen only where media elements have setSinkId", () => {
    expect(canChooseOutput({ setSinkId: () => Promise.resolve() })).toBe(true);
    expect(canChooseOutput({ play: () => Promise.resolve() })).toBe(false);
    expect(canChooseOutput(undefined)).toBe(false);
  });

  it("offers the real outputs; the browser's 'default' entry is the System default option", () => {
    expect(outputOptions(outputs).map((d) => d.deviceId)).toEqual(["spk", "hp"]);
  });

  it("plays on the chosen output while it is there, else on the default", () => {
    expect(effectiveOutput("hp", outputs)).toBe("hp");
    expect(effectiveOutput("gone", outputs)).toBeNull();
    expect(effectiveOutput(null, outputs)).toBeNull();
    expect(effectiveOutput("hp", [])).toBe("hp");
  });
});
