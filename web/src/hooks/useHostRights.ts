import { hostRights, type HostRights } from "../meeting/moderation";
import { useAuth } from "./useAuth";
import { useMeeting } from "./useMeeting";

/** Whether we are the host, a co-host, or neither (re-renders when the meeting or our own info changes). */
export function useHostRights(): HostRights {
  const { user } = useAuth();
  const meeting = useMeeting((s) => s.meeting);
  const me = useMeeting((s) => s.me);
  return hostRights(meeting, me, user?.id);
}
