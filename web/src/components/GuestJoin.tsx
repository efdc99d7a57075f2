import { useId, useMemo, useState, type FormEvent, type ReactNode } from "react";
import { Link, Navigate, useLocation, useNavigate, useParams } from "react-router";
import { AuthProvider } from "../contexts/AuthContext";
import { GuestContext, type GuestInfo } from "../contexts/GuestContext";
import { useAuth } from "../hooks/useAuth";
import { useGuest } from "../hooks/useGuest";
import {
  browserGuestStore,
  explainGuestError,
  GUEST_NAME_MAX,
  guestJoinPath,
  GuestSession,
  requestGuestGrant,
  validateGuestName,
  type GuestGrant,
  type GuestProblem,
} from "../lib/guest";

/**
 * The meeting route's gate: a signed-in user goes in as themselves; someone without an account
 * who joined by the link as a guest (a grant in this tab) goes in as that guest; anyone else is
 * sent to the sign-in page, which offers "Join as a guest".
 */
export function MeetingRoute({ children }: { children: ReactNode }) {
  const { code = "" } = useParams();
  return (
    <MeetingAccess key={code} code={code}>
      {children}
    </MeetingAccess>
  );
}

function MeetingAccess({ code, children }: { code: string; children: ReactNode }) {
  const { user } = useAuth();
  const location = useLocation();
  // Decided once per meeting page: signing in elsewhere must not swap the session under a guest.
  const [grant] = useState(() => (user ? null : browserGuestStore().load(code)));
  if (grant) return <GuestMeeting grant={grant}>{children}</GuestMeeting>;
  if (!user) {
    const next = location.pathname + location.search;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}

/** The meeting page under the guest's own session: `useAuth()` there is the guest, never the stored user. */
function GuestMeeting({ grant, children }: { grant: GuestGrant; children: ReactNode }) {
  const [session] = useState(() => new GuestSession(grant));
  const info = useMemo<GuestInfo>(
    () => ({ grant, rejoinPath: guestJoinPath(grant.code), forget: () => browserGuestStore().clear(grant.code) }),
    [grant],
  );
  return (
    <AuthProvider session={session}>
      <GuestContext.Provider value={info}>{children}</GuestContext.Provider>
    </AuthProvider>
  );
}

/** "Join again as a guest": drops the old grant and asks the name again (a new token). */
export function GuestRejoinLink({ className = "btn btn-secondary" }: { className?: string }) {
  const guest = useGuest();
  if (!guest) return null;
  return (
    <Link className={className} to={guest.rejoinPath} onClick={() => guest.forget()}>
      Join again as a guest
    </Link>
  );
}

function accountPath(code: string, mode: "login" | "register"): string {
  const next = encodeURIComponent(`/meeting/${code}`);
  return mode === "register" ? `/login?next=${next}&mode=register` : `/login?next=${next}`;
}

/** A name and a button: joins the meeting `code` without an account (then the pre-join and the lobby). */
export function GuestJoinForm({ code, onAccount }: { code: string; onAccount: (mode: "login" | "register") => void }) {
  const store = useMemo(() => browserGuestStore(), []);
  const navigate = useNavigate();
  const id = useId();
  const [name, setName] = useState(() => store.lastName());
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<(GuestProblem & { code?: string }) | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const invalid = validateGuestName(name);
    if (invalid) {
      setProblem({ message: invalid, needsAccount: false, code: "validation_failed" });
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      const grant = await requestGuestGrant(code, name);
      store.save(grant);
      navigate(`/meeting/${encodeURIComponent(code)}`, { replace: true });
    } catch (err) {
      setProblem({ ...explainGuestError(err), code: (err as { code?: string })?.code });
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} className="form" aria-label="Join as a guest" noValidate>
      <p className="muted-text">No account? Join with just your name. A host lets you in.</p>
      <div className="field">
        <label htmlFor={id}>Your name</label>
        <input id={id} name="guest-name" autoComplete="name" maxLength={GUEST_NAME_MAX} value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      {problem && (
        <p className="form-error" role="alert" data-testid="guest-error" data-code={problem.code}>
          {problem.needsAccount ? (
            <>
              This meeting needs an account —{" "}
              <Link className="link-btn" to={accountPath(code, "login")} onClick={() => onAccount("login")}>
                sign in
              </Link>{" "}
              or{" "}
              <Link className="link-btn" to={accountPath(code, "register")} onClick={() => onAccount("register")}>
                register
              </Link>
              .
            </>
          ) : (
            problem.message
          )}
        </p>
      )}
      <button type="submit" className="btn btn-primary btn-large" disabled={busy}>
        {busy ? "Please wait…" : "Join as a guest"}
      </button>
    </form>
  );
}
