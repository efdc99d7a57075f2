/** Local capture helpers and user-facing explanations of getUserMedia failures. */

export type MediaErrorKind = "denied" | "not_found" | "in_use" | "insecure" | "other";

export interface CaptureProblem {
  kind: MediaErrorKind;
  message: string;
}

export function classifyMediaError(err: unknown, device: "camera" | "microphone" | "screen"): CaptureProblem {
  const name = err instanceof Error || (typeof err === "object" && err !== null && "name" in err) ? String((err as { name: unknown }).name) : "";
  const label = device === "camera" ? "camera" : device === "microphone" ? "microphone" : "screen";
  switch (name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
    case "SecurityError":
      return {
        kind: "denied",
        message:
          device === "screen"
            ? "Screen sharing was cancelled or blocked."
            : `Access to your ${label} was blocked. You can allow it in the browser's site settings (the icon left of the address bar) and reload, or join without it.`,
      };
    case "NotFoundError":
    case "OverconstrainedError":
    case "DevicesNotFoundError":
      return { kind: "not_found", message: `No ${label} was found.` };
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return { kind: "in_use", message: `Your ${label} could not be started. Is another app using it?` };
    case "TypeError":
      return { kind: "insecure", message: "Media devices need a secure (https) page." };
    default:
      return { kind: "other", message: `Could not start the ${label}${name ? ` (${name})` : ""}.` };
  }
}

export function audioConstraints(deviceId: string | null): MediaTrackConstraints {
  return {
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
    echoCancellation: true,
    noiseSuppression: true,
    autoGainControl: true,
  };
}

export function videoConstraints(deviceId: string | null): MediaTrackConstraints {
  return {
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
    width: { ideal: 1280 },
    height: { ideal: 720 },
    frameRate: { ideal: 30, max: 30 },
  };
}
