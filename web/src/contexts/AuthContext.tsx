import { createContext, useEffect, useState, type ReactNode } from "react";
import { AuthSession } from "../lib/auth";
import { browserStorage, SESSION_KEY, TokenStore } from "../lib/tokens";

export const AuthContext = createContext<AuthSession | null>(null);

export function AuthProvider({ children, session }: { children: ReactNode; session?: AuthSession }) {
  const [auth] = useState(() => session ?? new AuthSession({ store: new TokenStore(browserStorage()) }));

  useEffect(() => {
    // Another tab logged in, out, or rotated the tokens.
    const onStorage = (e: StorageEvent) => {
      if (e.key === null || e.key === SESSION_KEY) auth.syncFromStorage();
    };
    window.addEventListener("storage", onStorage);
    // Validate a stored session once (a revoked one sends the user to the login page).
    if (auth.isAuthenticated) auth.loadMe().catch(() => undefined);
    return () => window.removeEventListener("storage", onStorage);
  }, [auth]);

  return <AuthContext.Provider value={auth}>{children}</AuthContext.Provider>;
}
