import { useContext, useSyncExternalStore } from "react";
import { WebSocketContext } from "../contexts/WebSocketContext";
import type { ConnectionState, SignalingConnection } from "../meeting/signaling";

/** The signaling connection and its status (connecting / open / reconnecting / closed). */
export function useWebSocket(): { connection: SignalingConnection; state: ConnectionState } {
  const connection = useContext(WebSocketContext);
  if (!connection) throw new Error("useWebSocket outside WebSocketProvider");
  const state = useSyncExternalStore(connection.state.subscribe, connection.state.getSnapshot);
  return { connection, state };
}
