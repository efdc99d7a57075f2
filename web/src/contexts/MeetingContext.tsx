import { createContext, useEffect, useState, type ReactNode } from "react";
import { MeetingClient } from "../meeting/MeetingClient";
import { useWebSocket } from "../hooks/useWebSocket";

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

export function MeetingProvider({
  code,
  children,
  startAudioMuted = false,
  startVideoMuted = false,
}: {
  code: string;
  children: ReactNode;
  startAudioMuted?: boolean;
  startVideoMuted?: boolean;
}) {
  const { connection } = useWebSocket();
  const [client] = useState(
    () =>
      new MeetingClient({
        signaling: connection,
        meetingCode: code,
        initialAudioMuted: startAudioMuted,
        initialVideoMuted: startVideoMuted,
      }),
  );
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
