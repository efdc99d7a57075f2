import type { DeviceOption } from "../meeting/clientTypes";

/** Whether this browser's media elements can play on a chosen output (`HTMLMediaElement.setSinkId`). */
export function canChooseOutput(proto: object | undefined = globalThis.HTMLMediaElement?.prototype): boolean {
  return !!proto && "setSinkId" in proto;
}

/** The outputs to offer besides "System default" (the browser's own "default" entry is that one again). */
export function outputOptions(outputs: DeviceOption[]): DeviceOption[] {
  return outputs.filter((d) => d.deviceId !== "default");
}

/**
 * The output to play on: the chosen one while it is there, the default (`null`) once it is gone
 * (remembered from an earlier visit, unplugged since). A list not read yet proves nothing.
 */
export function effectiveOutput(chosen: string | null, outputs: DeviceOption[]): string | null {
  if (!chosen || outputs.length === 0) return chosen;
  return outputs.some((d) => d.deviceId === chosen) ? chosen : null;
}
