/** Meeting codes: letters, digits, '-' and '_' (the server decides the exact shape). */
const CODE_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{1,63}$/;

export function isMeetingCode(s: string): boolean {
  return CODE_RE.test(s);
}

/**
 * Accepts a bare code ("abc-defg-hij"), a full invite link ("https://host/meeting/abc-defg-hij"),
 * a path ("/meeting/abc-defg-hij") or a link without scheme ("host/meeting/abc?x=1").
 * Returns the code, or null when nothing usable was given.
 */
export function parseMeetingInput(input: string): string | null {
  const s = input.trim();
  if (!s) return null;
  if (isMeetingCode(s)) return s;
  const m = /(?:^|\/)meeting\/([^/?#\s]+)/.exec(s);
  if (!m) return null;
  let code: string;
  try {
    code = decodeURIComponent(m[1]);
  } catch {
    return null;
  }
  return isMeetingCode(code) ? code : null;
}

export function inviteLink(code: string, origin: string): string {
  return `${origin.replace(/\/+$/, "")}/meeting/${encodeURIComponent(code)}`;
}

/** The signaling URL on the page's own origin: ws: for http:, wss: for https:. */
export function signalingUrl(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/ws`;
}

/** Only same-app paths are accepted as a post-login destination (no open redirect). */
export function safeNextPath(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/dashboard";
  return next;
}
