import { useContext } from "react";
import { GuestContext, type GuestInfo } from "../contexts/GuestContext";

/** The guest's grant on a guest's meeting page; null for a signed-in user. */
export function useGuest(): GuestInfo | null {
  return useContext(GuestContext);
}
