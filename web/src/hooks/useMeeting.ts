import { useContext, useSyncExternalStore } from "react";
import { MeetingContext } from "../contexts/MeetingContext";
import type { MeetingClient } from "../meeting/MeetingClient";
import type { MeetingState } from "../meeting/state";

export function useMeetingClient(): MeetingClient {
  const client = useContext(MeetingContext);
  if (!client) throw new Error("useMeeting outside MeetingProvider");
  return client;
}

/**
 * A slice of the meeting state. The selector must return something stable (a primitive or an
 * object taken from the state as is), so that a component re-renders only when its slice changes.
 */
export function useMeeting<T>(selector: (s: MeetingState) => T): T {
  const client = useMeetingClient();
  return useSyncExternalStore(client.state.subscribe, () => selector(client.state.getSnapshot()));
}
