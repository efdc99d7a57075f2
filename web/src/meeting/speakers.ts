import type { ParticipantId, SpeakerLevel } from "../protocol";

/** Who is speaking, as the tiles and the speaker view read it. */
export interface LevelsState {
  /** Who is speaking now: participant id (as string) or "self". */
  speaking: Record<string, boolean>;
  /** The remote participant who spoke most recently (speaker view). */
  activeSpeaker: ParticipantId | null;
}

export const NOBODY_SPEAKING: LevelsState = { speaking: {}, activeSpeaker: null };

/**
 * The state after the server's `active_speakers` (loudest first). The server hears every
 * microphone from the audio level each packet carries, so the client decodes nothing to find
 * the speaker. Our own ring comes from the same list, not from our microphone's level: it then
 * lights exactly when the others hear us (never for a muted or stalled microphone) and costs no
 * audio analysis; the half second it lags is nothing for a ring. The speaker view keeps the last
 * remote speaker on its big tile while nobody speaks; one who left is dropped. Returns `prev`
 * itself when nothing changed, so only the tiles whose state moved re-render.
 */
export function applyActiveSpeakers(
  prev: LevelsState,
  speakers: SpeakerLevel[],
  selfId: ParticipantId | null,
  present: (id: ParticipantId) => boolean,
): LevelsState {
  const speaking: Record<string, boolean> = {};
  for (const s of speakers) speaking[s.participant_id === selfId ? "self" : String(s.participant_id)] = true;
  const loudest = speakers.find((s) => s.participant_id !== selfId && present(s.participant_id));
  let active = loudest ? loudest.participant_id : prev.activeSpeaker;
  if (active !== null && !present(active)) active = null;
  const keys = new Set([...Object.keys(prev.speaking), ...Object.keys(speaking)]);
  const same = [...keys].every((k) => !!prev.speaking[k] === !!speaking[k]);
  return same && active === prev.activeSpeaker ? prev : { speaking, activeSpeaker: active };
}
