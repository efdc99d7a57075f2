import { useMemo, useSyncExternalStore } from "react";
import type { LocalState, PeerStates, RemoteMedia } from "../meeting/MeetingClient";
import type { TrackFlow } from "../protocol";
import type { Quality } from "../meeting/connectionQuality";
import { useMeetingClient } from "./useMeeting";

/** Local media state and the controls that change it. */
export function useWebRTC<T>(selector: (l: LocalState) => T) {
  const client = useMeetingClient();
  const value = useSyncExternalStore(client.local.subscribe, () => selector(client.local.getSnapshot()));
  return { client, value };
}

const NO_MEDIA: RemoteMedia = { audio: [], camera: null, screen: null };

/** The tracks received from one participant. */
export function useRemoteMedia(participantId: number): RemoteMedia {
  const client = useMeetingClient();
  return useSyncExternalStore(client.remote.subscribe, () => client.remote.getSnapshot()[participantId] ?? NO_MEDIA);
}

/** Whether one participant ("self" or an id) is speaking: only that tile re-renders on a change. */
export function useSpeaking(key: string | number): boolean {
  const client = useMeetingClient();
  return useSyncExternalStore(client.levels.subscribe, () => !!client.levels.getSnapshot().speaking[String(key)]);
}

/** What the server sends of one remote video (`track_state`): only that tile re-renders. */
export function useTrackFlow(trackId: string | undefined): TrackFlow | undefined {
  const client = useMeetingClient();
  return useSyncExternalStore(client.flows.subscribe, () => (trackId ? client.flows.getSnapshot()[trackId] : undefined));
}

/** Remote participants speaking now (ids as strings, loudest first is not kept: any order). */
export function useSpeakingKeys(): string[] {
  const client = useMeetingClient();
  const speaking = useSyncExternalStore(client.levels.subscribe, () => client.levels.getSnapshot().speaking);
  return useMemo(() => Object.keys(speaking).filter((k) => k !== "self" && speaking[k]), [speaking]);
}

export function useActiveSpeaker(): number | null {
  const client = useMeetingClient();
  return useSyncExternalStore(client.levels.subscribe, () => client.levels.getSnapshot().activeSpeaker);
}

export function usePeerStates(): PeerStates {
  const client = useMeetingClient();
  return useSyncExternalStore(client.peers.subscribe, client.peers.getSnapshot);
}

/** All remote media (for the audio renderer). */
export function useAllRemoteMedia(): Record<number, RemoteMedia> {
  const client = useMeetingClient();
  return useSyncExternalStore(client.remote.subscribe, client.remote.getSnapshot);
}

/** The connection quality of one participant ("self" or an id); undefined until measured. */
export function useQuality(key: string | number): Quality | undefined {
  const client = useMeetingClient();
  return useSyncExternalStore(client.quality.subscribe, () => client.quality.getSnapshot()[String(key)]);
}
