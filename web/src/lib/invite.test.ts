import { describe, expect, it } from "vitest";
import { inviteLink, parseMeetingInput, safeNextPath, signalingUrl } from "./invite";

describe("parseMeetingInput", () => {
  it.each([
    ["abc-defg-hij", "abc-defg-hij"],
    ["  abc-defg-hij  ", "abc-defg-hij"],
    ["https://meet.example.com/meeting/abc-defg-hij", "abc-defg-hij"],
    ["http://127.0.0.1:8080/meeting/Xy12_z?x=1#frag", "Xy12_z"],
    ["meet.example.com/meeting/abc-defg-hij/", "abc-defg-hij"],
    ["/meeting/abc%2Ddef", "abc-def"],
  ])("%s -> %s", (input, code) => {
    expect(parseMeetingInput(input)).toBe(code);
  });

  it.each(["", "   ", "https://example.com/", "not a code!", "https://x/meeting/", "a", "/meeting/%E0%A4%A"])("rejects %j", (input) => {
    expect(parseMeetingInput(input)).toBeNull();
  });
});

describe("links", () => {
  it("builds invite links", () => {
    expect(inviteLink("abc-def", "https://m.example.com/")).toBe("https://m.example.com/meeting/abc-def");
  });
  it("uses ws: or wss: to match the page", () => {
    expect(signalingUrl({ protocol: "http:", host: "127.0.0.1:8080" })).toBe("ws://127.0.0.1:8080/ws");
    expect(signalingUrl({ protocol: "https:", host: "m.example.com" })).toBe("wss://m.example.com/ws");
  });
  it("only accepts local paths after login", () => {
    expect(safeNextPath("/meeting/abc")).toBe("/meeting/abc");
    expect(safeNextPath("//evil.example.com")).toBe("/dashboard");
    expect(safeNextPath("https://evil.example.com")).toBe("/dashboard");
    expect(safeNextPath(null)).toBe("/dashboard");
  });
});
