import { createContext, useEffect, useState, type ReactNode } from "react";
import { signalingUrl } from "../lib/invite";
import { SignalingConnection, type SocketFactory } from "../meeting/signaling";
import { useAuth } from "../hooks/useAuth";

export const WebSocketContext = createContext<SignalingConnection | null>(null);

/**
 * Owns the signaling WebSocket of the meeting page (same origin, `/ws`). The socket opens when
 * the user joins and closes when the page unmounts.
 */
export function WebSocketProvider({ children, socketFactory }: { children: ReactNode; socketFactory?: SocketFactory }) {
  const { session } = useAuth();
  const [connection] = useState(
    () =>
      new SignalingConnection({
        url: signalingUrl(window.location),
        getToken: (force) => (force ? session.refresh() : session.accessToken()),
        socketFactory,
      }),
  );
  useEffect(() => () => connection.close(), [connection]);
  return <WebSocketContext.Provider value={connection}>{children}</WebSocketContext.Provider>;
}
