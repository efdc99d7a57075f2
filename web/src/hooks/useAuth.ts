import { useContext, useSyncExternalStore } from "react";
import { AuthContext } from "../contexts/AuthContext";
import type { AuthSession } from "../lib/auth";
import type { User } from "../lib/tokens";

export function useAuth(): { session: AuthSession; user: User | null } {
  const session = useContext(AuthContext);
  if (!session) throw new Error("useAuth outside AuthProvider");
  const { user } = useSyncExternalStore(session.state.subscribe, session.state.getSnapshot);
  return { session, user };
}
