export type ShortcutAction = "toggle_mic" | "toggle_camera";

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

export function isMacPlatform(platform: string): boolean {
  return /mac|iphone|ipad|ipod/i.test(platform);
}

/** Ctrl+D / Ctrl+E (Cmd on macOS) toggle the microphone / camera, as in other meeting apps. */
export function matchShortcut(e: KeyLike, mac: boolean): ShortcutAction | null {
  const mod = mac ? e.metaKey && !e.ctrlKey : e.ctrlKey && !e.metaKey;
  if (!mod || e.altKey || e.shiftKey) return null;
  switch (e.key.toLowerCase()) {
    case "d":
      return "toggle_mic";
    case "e":
      return "toggle_camera";
    default:
      return null;
  }
}

export function shortcutLabel(action: ShortcutAction, mac: boolean): string {
  const mod = mac ? "⌘" : "Ctrl+";
  return `${mod}${action === "toggle_mic" ? "D" : "E"}`;
}
