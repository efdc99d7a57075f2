import { createContext } from "react";
import type { GuestGrant } from "../lib/guest";

export interface GuestInfo {
  grant: GuestGrant;
  /** Where "Join again as a guest" goes (the guest form, name filled in). */
  rejoinPath: string;
  /** Drop this tab's grant for the meeting (before asking for a new one). */
  forget: () => void;
}

/** Set on the meeting page of someone who joined by the link without an account; null otherwise. */
export const GuestContext = createContext<GuestInfo | null>(null);
