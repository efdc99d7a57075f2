import { describe, expect, it } from "vitest";
import { matchShortcut, shortcutLabel } from "./shortcuts";

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean; shiftKey: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...mods,
});

describe("matchShortcut", () => {
  it("uses Ctrl on Windows/Linux and Cmd on macOS", () => {
    expect(matchShortcut(key("d", { ctrlKey: true }), false)).toBe("toggle_mic");
    expect(matchShortcut(key("E", { ctrlKey: true }), false)).toBe("toggle_camera");
    expect(matchShortcut(key("d", { metaKey: true }), true)).toBe("toggle_mic");
    expect(matchShortcut(key("d", { metaKey: true }), false)).toBeNull();
    expect(matchShortcut(key("d", { ctrlKey: true }), true)).toBeNull();
  });
  it("ignores other keys and modifier combinations", () => {
    expect(matchShortcut(key("d"), false)).toBeNull();
    expect(matchShortcut(key("x", { ctrlKey: true }), false)).toBeNull();
    expect(matchShortcut(key("d", { ctrlKey: true, shiftKey: true }), false)).toBeNull();
  });
  it("labels", () => {
    expect(shortcutLabel("toggle_mic", false)).toBe("Ctrl+D");
    expect(shortcutLabel("toggle_camera", true)).toBe("⌘E");
  });
});
