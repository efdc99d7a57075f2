import { useId, useState, type FormEvent } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { Brand } from "../components/Layout";
import { useAuth } from "../hooks/useAuth";
import { ApiError } from "../lib/auth";
import { parseMeetingInput, safeNextPath } from "../lib/invite";
import { GuestJoinForm } from "../components/GuestJoin";

type Mode = "login" | "register" | "guest";

function explain(e: unknown, mode: Mode): string {
  if (e instanceof ApiError) {
    // After registering, a 401 comes from the sign-in step and carries its own explanation.
    if (e.status === 401) return mode === "register" ? e.message : "Wrong email or password.";
    if (e.status === 429) return "Too many attempts. Please wait a minute and try again.";
    if (e.status === 0) return e.message;
    return e.message || (mode === "login" ? "Could not log in." : "Could not create the account.");
  }
  return "Something went wrong. Please try again.";
}

export default function Login() {
  const { session, user } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNextPath(params.get("next"));
  const guestCode = next.startsWith("/meeting/") ? parseMeetingInput(next) : null;
  const [mode, setMode] = useState<Mode>(params.get("mode") === "register" ? "register" : params.get("guest") === "1" && guestCode ? "guest" : "login");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { email: useId(), password: useId(), name: useId() };

  if (user && !busy) return <Navigate to={next} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "login") await session.login(email.trim(), password);
      else await session.register(email.trim(), password, name.trim());
      navigate(next, { replace: true });
    } catch (err) {
      setError(explain(err, mode));
    } finally {
      setBusy(false);
    }
  };

  const goingToMeeting = next.startsWith("/meeting/");
  return (
    <div className="auth-page">
      <Brand />
      <main className="card auth-card">
        <div className="tabs" role="tablist" aria-label="Log in or create an account">
          <button type="button" role="tab" aria-selected={mode === "login"} className={mode === "login" ? "tab active" : "tab"} onClick={() => { setMode("login"); setError(null); }}>
            Log in
          </button>
          <button type="button" role="tab" aria-selected={mode === "register"} className={mode === "register" ? "tab active" : "tab"} onClick={() => { setMode("register"); setError(null); }}>
            Create account
          </button>
          {guestCode && (
            <button type="button" role="tab" aria-selected={mode === "guest"} className={mode === "guest" ? "tab active" : "tab"} onClick={() => { setMode("guest"); setError(null); }}>
              Join as a guest
            </button>
          )}
        </div>
        {goingToMeeting && mode !== "guest" && <p className="muted-text">Log in or create an account to join the meeting{guestCode ? ", or join as a guest" : ""}.</p>}
        {mode === "guest" && guestCode ? (
          <GuestJoinForm code={guestCode} onAccount={(m) => { setMode(m); setError(null); }} />
        ) : (
        <form onSubmit={submit} className="form" aria-label={mode === "login" ? "Log in" : "Create account"}>
          {mode === "register" && (
            <div className="field">
              <label htmlFor={ids.name}>Name</label>
              <input id={ids.name} name="name" autoComplete="name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
            </div>
          )}
          <div className="field">
            <label htmlFor={ids.email}>Email</label>
            <input id={ids.email} name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={ids.password}>Password</label>
            <input
              id={ids.password}
              name="password"
              type="password"
              autoComplete={mode === "login" ? "current-password" : "new-password"}
              required
              minLength={mode === "register" ? 8 : undefined}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            {mode === "register" && <small className="muted-text">At least 8 characters.</small>}
          </div>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="btn btn-primary btn-large" disabled={busy}>
            {busy ? "Please wait…" : mode === "login" ? "Log in" : "Create account"}
          </button>
        </form>
        )}
      </main>
    </div>
  );
}
