import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { AudioRenderer } from "../components/AudioRenderer";
import { Chat } from "../components/Chat";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Controls, type Panel } from "../components/Controls";
import { CopyButton } from "../components/CopyButton";
import { Icon } from "../components/Icon";
import { Brand } from "../components/Layout";
import { LobbyAlert, LobbyToggle } from "../components/Lobby";
import { GuestRejoinLink } from "../components/GuestJoin";
import { GuestsToggle } from "../components/GuestsToggle";
import { LockToggle, ParticipantList } from "../components/ParticipantList";
import { PreJoin } from "../components/PreJoin";
import { VideoGrid, type ViewMode } from "../components/VideoGrid";
import { WaitingRoom } from "../components/WaitingRoom";
import { MeetingProvider } from "../contexts/MeetingContext";
import { WebSocketProvider } from "../contexts/WebSocketContext";
import { useAuth } from "../hooks/useAuth";
import { useGuest } from "../hooks/useGuest";
import { useHostRights } from "../hooks/useHostRights";
import { useMeeting, useMeetingClient } from "../hooks/useMeeting";
import { useWebSocket } from "../hooks/useWebSocket";
import { meetingsApi, type Meeting } from "../lib/api";
import { ApiError } from "../lib/auth";
import { inviteLink, isMeetingCode } from "../lib/invite";
import { endedNote } from "../lib/meetingSummary";
import { unmutePrompt } from "../meeting/moderation";
import { describeEndReason, describeProblem, type Problem, type Removal } from "../meeting/state";
import type { EndReason } from "../protocol";

type Load = { kind: "loading" } | { kind: "ok"; meeting: Meeting } | { kind: "not_found" } | { kind: "error"; message: string };

export default function MeetingPage() {
  const { code = "" } = useParams();
  return <MeetingLoader key={code} code={code} />;
}

function MeetingLoader({ code }: { code: string }) {
  const { session } = useAuth();
  const guest = useGuest();
  const valid = isMeetingCode(code);
  // A guest cannot GET the meeting (its token is for signaling only): the guests endpoint gave it.
  const [load, setLoad] = useState<Load>(() => (guest ? { kind: "ok", meeting: guest.grant.meeting } : { kind: "loading" }));
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!valid || guest) return;
    let cancelled = false;
    meetingsApi
      .get(session, code)
      .then((meeting) => !cancelled && setLoad({ kind: "ok", meeting }))
      .catch((e: unknown) => {
        if (cancelled) return;
        if (e instanceof ApiError && (e.status === 404 || e.code === "meeting_not_found" || e.code === "not_found")) setLoad({ kind: "not_found" });
        else setLoad({ kind: "error", message: e instanceof ApiError ? e.message : "Could not load the meeting." });
      });
    return () => {
      cancelled = true;
    };
  }, [session, code, valid, attempt, guest]);

  useEffect(() => {
    document.title = load.kind === "ok" ? `${load.meeting.title} · Mini Meeting` : "Mini Meeting";
    return () => {
      document.title = "Mini Meeting";
    };
  }, [load]);

  if (!valid || load.kind === "not_found") return <NotFoundScreen code={code} />;
  if (load.kind === "loading") return <CenteredMessage title="Loading meeting…" />;
  if (load.kind === "error")
    return (
      <CenteredMessage title="Could not load the meeting" body={load.message}>
        <button type="button" className="btn btn-primary" onClick={() => setAttempt((a) => a + 1)}>
          Try again
        </button>
      </CenteredMessage>
    );
  if (load.meeting.status === "ended") return <EndedScreen reason={null} note={endedNote(load.meeting)} />;
  return (
    <WebSocketProvider>
      <MeetingProvider code={load.meeting.code}>
        <MeetingRoom meeting={load.meeting} />
      </MeetingProvider>
    </WebSocketProvider>
  );
}

/** A page with one message; the actions (`children`) come with a link back to the dashboard. */
function CenteredMessage({ title, body, note, children }: { title: string; body?: string; note?: string; children?: React.ReactNode }) {
  const guest = useGuest();
  return (
    <div className="center-page">
      <Brand />
      <main className="card center-card">
        <h1>{title}</h1>
        {body && <p>{body}</p>}
        {note && <p className="muted-text">{note}</p>}
        <div className="center-actions">
          {children}
          {guest ? (
            <GuestRejoinLink />
          ) : (
            <Link className="btn btn-secondary" to="/dashboard">
              Back to dashboard
            </Link>
          )}
        </div>
      </main>
    </div>
  );
}

function NotFoundScreen({ code }: { code: string }) {
  return (
    <CenteredMessage
      title="Meeting not found"
      body={`There is no meeting with the code “${code}”. Check the link or ask the host for a new one.`}
    />
  );
}

/** The title says it ended; the body says why (or, when not known, what now), never the title again. */
function EndedScreen({ reason, note }: { reason: EndReason | null; note?: string }) {
  return <CenteredMessage title="The meeting has ended" body={describeEndReason(reason)} note={note} />;
}

function MeetingRoom({ meeting }: { meeting: Meeting }) {
  const client = useMeetingClient();
  const phase = useMeeting((s) => s.phase);
  const endedReason = useMeeting((s) => s.endedReason);
  const failure = useMeeting((s) => s.failure);
  const removal = useMeeting((s) => s.removal);
  const title = useMeeting((s) => s.meeting?.title ?? meeting.title);
  const navigate = useNavigate();
  const guest = useGuest();

  switch (phase) {
    case "idle":
      return <PreJoin title={meeting.title} code={meeting.code} onJoin={() => client.join()} />;
    case "waiting":
      return (
        <WaitingRoom
          title={title}
          onCancel={() => {
            client.leave();
            if (guest) guest.forget();
            navigate(guest ? guest.rejoinPath : "/dashboard");
          }}
        />
      );
    case "ended":
      return <EndedScreen reason={endedReason} />;
    case "left":
      return (
        <CenteredMessage title="You left the meeting">
          <button type="button" className="btn btn-primary" onClick={() => void client.rejoin()}>
            Rejoin
          </button>
        </CenteredMessage>
      );
    case "removed":
      return <RemovedScreen removal={removal} onRejoin={() => void client.rejoin()} />;
    case "failed":
      return <FailedScreen failure={failure} onRetry={() => void client.rejoin()} />;
    default:
      return <Room meeting={meeting} />;
  }
}

/** A host removed us: we never reconnect by ourselves; without a ban we may come back when we choose to. */
function RemovedScreen({ removal, onRejoin }: { removal: Removal | null; onRejoin: () => void }) {
  const by = removal?.byName ? `${removal.byName} removed you.` : "A host removed you.";
  return (
    <CenteredMessage title="You were removed from the meeting" body={removal?.banned ? `${by} You can't rejoin this meeting.` : `${by} You can join again with the meeting link.`}>
      {!removal?.banned && (
        <button type="button" className="btn btn-primary" onClick={onRejoin}>
          Join again
        </button>
      )}
    </CenteredMessage>
  );
}

const FAILURE_TITLES: Record<string, string> = {
  replaced: "Joined from another tab",
  meeting_locked: "This meeting is locked",
  removed: "You can't rejoin this meeting",
  lobby_denied: "You weren't let in",
  lobby_timeout: "Nobody let you in",
  guests_not_allowed: "Guests can't join this meeting",
};

/** What the retry button says on the failed page. */
function retryLabel(code: string | undefined): string {
  switch (code) {
    case "replaced":
      return "Use this tab instead";
    case "meeting_locked":
      return "Try again";
    case "lobby_denied":
    case "lobby_timeout":
      return "Ask to join again";
    default:
      return "Rejoin";
  }
}

function FailedScreen({ failure, onRetry }: { failure: Problem | null; onRetry: () => void }) {
  const guest = useGuest();
  if (failure?.code === "meeting_not_found") return <NotFoundScreen code="" />;
  const title = guest && failure?.code === "unauthenticated" ? "Your guest pass has expired" : ((failure && FAILURE_TITLES[failure.code]) ?? "Disconnected");
  const body = guest && failure?.code === "unauthenticated" ? "Join again as a guest to get a new one." : failure ? describeProblem(failure) : "The connection was lost.";
  return (
    <CenteredMessage title={title} body={body}>
      {failure?.code === "removed" || (guest && (failure?.code === "unauthenticated" || failure?.code === "guests_not_allowed")) ? null : failure?.code === "unauthenticated" ? (
        <Link className="btn btn-primary" to={`/login?next=${encodeURIComponent(window.location.pathname)}`}>
          Log in again
        </Link>
      ) : (
        <button type="button" className="btn btn-primary" onClick={onRetry}>
          {retryLabel(failure?.code)}
        </button>
      )}
    </CenteredMessage>
  );
}

function Room({ meeting }: { meeting: Meeting }) {
  const client = useMeetingClient();
  const { state: ws } = useWebSocket();
  const phase = useMeeting((s) => s.phase);
  const notice = useMeeting((s) => s.notice);
  const count = useMeeting((s) => s.order.length + 1);
  const title = useMeeting((s) => s.meeting?.title ?? meeting.title);
  const locked = useMeeting((s) => !!s.meeting?.locked);
  const rights = useHostRights();
  const [panel, setPanel] = useState<Panel>(null);
  const [view, setView] = useState<ViewMode>("grid");
  const [confirmEnd, setConfirmEnd] = useState(false);
  const reconnecting = phase === "reconnecting" || ws.status === "reconnecting";

  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => client.dismissNotice(), 6000);
    return () => clearTimeout(t);
  }, [notice, client]);

  return (
    <div className="room" data-phase={phase}>
      <header className="room-bar">
        <div className="room-title">
          <h1>{title}</h1>
          <span className="muted-text hide-narrow">
            <code>{meeting.code}</code>
          </span>
          {locked && (
            <span className="tag tag-warn room-locked" data-testid="locked-badge" title="Nobody new can join">
              <Icon name="lock" size={12} /> Locked
            </span>
          )}
        </div>
        <CopyButton text={inviteLink(meeting.code, window.location.origin)} />
      </header>
      {reconnecting && (
        <div className="banner banner-warn" role="status" data-testid="reconnecting-banner">
          <span className="spinner" aria-hidden="true" /> Reconnecting…
          {ws.attempt > 1 && <span className="muted-text"> (attempt {ws.attempt})</span>}
        </div>
      )}
      {phase === "joining" && (
        <div className="banner" role="status">
          <span className="spinner" aria-hidden="true" /> Joining…
        </div>
      )}
      <div className="toasts">
        {notice && (
          <div className="toast" role="alert" data-testid="notice" data-code={notice.code}>
            <span>{describeProblem(notice)}</span>
            <button type="button" className="icon-btn" aria-label="Dismiss" onClick={() => client.dismissNotice()}>
              <Icon name="close" size={16} />
            </button>
          </div>
        )}
        <UnmuteRequestPrompt />
        {panel !== "people" && <LobbyAlert onShow={() => setPanel("people")} />}
      </div>
      <div className={`room-main${panel ? " with-panel" : ""}`}>
        <VideoGrid view={view} />
        {panel && (
          <aside className="side-panel" aria-label={panel === "chat" ? "Chat" : "Participants"}>
            <div className="side-head">
              <h2>{panel === "chat" ? "Chat" : `Participants (${count})`}</h2>
              <button type="button" className="icon-btn" aria-label={`Close ${panel === "chat" ? "chat" : "participants"}`} onClick={() => setPanel(null)}>
                <Icon name="close" />
              </button>
            </div>
            {panel === "people" && rights && (
              <div className="side-tools" role="group" aria-label="Who may join">
                <LobbyToggle />
                <LockToggle />
                <GuestsToggle />
              </div>
            )}
            {panel === "chat" ? <Chat /> : <ParticipantList />}
          </aside>
        )}
      </div>
      <Controls
        canEnd={!!rights}
        panel={panel}
        onPanel={setPanel}
        view={view}
        onView={setView}
        onLeave={() => client.dispose()}
        onEnd={() => setConfirmEnd(true)}
      />
      <AudioRenderer />
      {confirmEnd && (
        <ConfirmDialog
          title="End the meeting for everyone?"
          body="Everyone will be disconnected and the meeting link will stop working."
          confirmLabel="End meeting"
          onCancel={() => setConfirmEnd(false)}
          onConfirm={() => {
            setConfirmEnd(false);
            client.endMeeting();
          }}
        />
      )}
    </div>
  );
}

/** A host asked us to turn something on: only we do it, with this button (never automatically). */
function UnmuteRequestPrompt() {
  const client = useMeetingClient();
  const req = useMeeting((s) => s.unmuteRequest);
  if (!req) return null;
  return (
    <div className="toast" role="alertdialog" aria-label="Unmute request" data-testid="unmute-request">
      <span>{unmutePrompt(req.byName, req.source)}</span>
      <button type="button" className="btn btn-primary btn-small" onClick={() => void client.acceptUnmuteRequest()}>
        {req.source === "camera" ? "Turn on camera" : "Unmute"}
      </button>
      <button type="button" className="btn btn-secondary btn-small" onClick={() => client.dismissUnmuteRequest()}>
        Not now
      </button>
    </div>
  );
}
