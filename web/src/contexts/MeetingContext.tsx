import { createContext, useEffect, useState, type ReactNode } from "react";
import { MeetingClient } from "../meeting/MeetingClient";
import { useWebSocket } from "../hooks/useWebSocket";
import { browserStorage, loadChoices, saveChoices } from "../lib/mediaChoices";

export const MeetingContext = createContext<MeetingClient | null>(null);

declare global {
  interface Window {
    /** The meeting client, exposed for debugging and the end-to-end test (dev builds or `localStorage["mm.debug"]="1"`). */
    __mm?: { client: MeetingClient };
  }
}

function debugEnabled(): boolean {
  if (import.meta.env.DEV) return true;
  try {
    return localStorage.getItem("mm.debug") === "1";
  } catch {
    return false;
  }
}

/**
 * One meeting's client. It starts with the microphone and camera as the participant left them
 * (this tab's state in this meeting after a reload, else the browser's last choice) on the
 * devices last chosen in this browser, and remembers every change.
 */
export function MeetingProvider({ code, children }: { code: string; children: ReactNode }) {
  const { connection } = useWebSocket();
  const [client] = useState(
    () =>
      new MeetingClient({
        signaling: connection,
        meetingCode: code,
        initial: loadChoices(browserStorage("local"), browserStorage("session"), code),
      }),
  );
  useEffect(() => {
    let last = "";
    return client.local.subscribe(() => {
      const l = client.local.getSnapshot();
      const choices = { audioMuted: l.audioMuted, videoMuted: l.videoMuted, audioDeviceId: l.audioDeviceId, videoDeviceId: l.videoDeviceId, audioOutputId: l.audioOutputId };
      const key = JSON.stringify(choices);
      if (key === last) return;
      last = key;
      saveChoices(browserStorage("local"), browserStorage("session"), code, choices);
    });
  }, [client, code]);
  useEffect(() => {
    if (debugEnabled()) window.__mm = { client };
    const onUnload = () => client.leave();
    window.addEventListener("pagehide", onUnload);
    return () => {
      window.removeEventListener("pagehide", onUnload);
      client.dispose();
      if (window.__mm?.client === client) delete window.__mm;
    };
  }, [client]);
  return <MeetingContext.Provider value={client}>{children}</MeetingContext.Provider>;
}
