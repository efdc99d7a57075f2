import type { ParticipantInfo, TrackFlow } from "../protocol";

/** What a tile says about its video besides the picture, from the server's `track_state`. */
export interface TileNotice {
  text: string;
  /** The longer explanation, as a tooltip. */
  title: string;
}

/**
 * The notice of a video the server stopped for this client's bandwidth: its connection cannot
 * carry even the smallest layer beside the videos of higher priority. It comes back by itself
 * when the connection allows, so the tile says that instead of going black. A video we hid
 * ourselves (`paused`: off the page) or that is starting (`waiting`) needs no notice.
 */
export function tileNotice(flow: TrackFlow | undefined): TileNotice | null {
  if (flow !== "paused_bandwidth") return null;
  return {
    text: "Video paused: slow connection",
    title: "Your connection cannot carry this video right now. It resumes by itself when it can.",
  };
}

/** The id of a participant's camera or screen-share video track, to look up its state. */
export function videoTrackId(p: ParticipantInfo | undefined, kind: "camera" | "screen"): string | undefined {
  return p?.tracks.find((t) => t.kind === "video" && (t.source === "screen_share") === (kind === "screen"))?.track_id;
}
