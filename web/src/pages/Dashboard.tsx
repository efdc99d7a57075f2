import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { CopyButton } from "../components/CopyButton";
import { Layout } from "../components/Layout";
import { PastMeeting } from "../components/PastMeeting";
import { useAuth } from "../hooks/useAuth";
import { formatDateTime, meetingsApi, type Meeting } from "../lib/api";
import { ApiError } from "../lib/auth";
import { inviteLink, parseMeetingInput } from "../lib/invite";

const PAGE = 20;

function StatusBadge({ status }: { status: Meeting["status"] }) {
  const text = { created: "Not started", active: "Live", paused: "Paused", ended: "Ended" }[status] ?? status;
  return <span className={`status status-${status}`}>{text}</span>;
}

export default function Dashboard() {
  const { session, user } = useAuth();
  const navigate = useNavigate();
  const [title, setTitle] = useState("");
  const [lobby, setLobby] = useState(false);
  const [allowGuests, setAllowGuests] = useState(false);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<Meeting | null>(null);
  const [createError, setCreateError] = useState<string | null>(null);
  const [joinInput, setJoinInput] = useState("");
  const [joinError, setJoinError] = useState<string | null>(null);
  const [meetings, setMeetings] = useState<Meeting[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [offset, setOffset] = useState(0);
  const [hasMore, setHasMore] = useState(false);
  const [reloadTick, setReloadTick] = useState(0);

  const reload = useCallback(() => setReloadTick((t) => t + 1), []);

  useEffect(() => {
    let cancelled = false;
    meetingsApi
      .list(session, PAGE, offset)
      .then((page) => {
        if (cancelled) return;
        setMeetings(page.items);
        setHasMore(page.next_offset != null);
        setListError(null);
      })
      .catch((e: unknown) => {
        if (!cancelled) setListError(e instanceof ApiError ? e.message : "Could not load your meetings.");
      });
    return () => {
      cancelled = true;
    };
  }, [session, offset, reloadTick]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setCreating(true);
    setCreateError(null);
    try {
      const m = await meetingsApi.create(session, title.trim() || `${user?.name ?? "My"}'s meeting`, lobby, allowGuests);
      setCreated(m);
      setTitle("");
      reload();
    } catch (err) {
      setCreateError(err instanceof ApiError ? err.message : "Could not create the meeting.");
    } finally {
      setCreating(false);
    }
  };

  const join = (e: FormEvent) => {
    e.preventDefault();
    const code = parseMeetingInput(joinInput);
    if (!code) {
      setJoinError("That is not a meeting code or invite link.");
      return;
    }
    navigate(`/meeting/${encodeURIComponent(code)}`);
  };

  const end = async (m: Meeting) => {
    try {
      await meetingsApi.end(session, m.code);
      reload();
    } catch (err) {
      setListError(err instanceof ApiError ? err.message : "Could not end the meeting.");
    }
  };

  const origin = window.location.origin;
  return (
    <Layout>
      <main className="dashboard">
        <h1 className="page-title">Hello{user ? `, ${user.name}` : ""}</h1>
        <div className="dash-cards">
          <section className="card" aria-labelledby="new-meeting">
            <h2 id="new-meeting">New meeting</h2>
            <form onSubmit={create} className="new-meeting-form">
              <div className="form-row">
                <input aria-label="Meeting title" placeholder="Title (optional)" maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />
                <button type="submit" className="btn btn-primary" disabled={creating}>
                  {creating ? "Creating…" : "Create meeting"}
                </button>
              </div>
              <div className="checkbox-row">
                <label title="Newcomers wait until you or a co-host admits them; you can turn it off in the meeting">
                  <input type="checkbox" checked={lobby} onChange={(e) => setLobby(e.target.checked)} /> Let people in from a lobby
                </label>
                <label title="Anyone with the link can join with just a name; guests always wait in the lobby until you admit them">
                  <input type="checkbox" checked={allowGuests} onChange={(e) => setAllowGuests(e.target.checked)} /> Let people join without an account (guests)
                </label>
              </div>
            </form>
            {createError && (
              <p className="form-error" role="alert">
                {createError}
              </p>
            )}
            {created && (
              <div className="created" data-testid="created-meeting" data-code={created.code}>
                <p>
                  <strong>{created.title}</strong> is ready{created.lobby ? " (with a lobby: you let people in)" : ""}. Share this link:
                </p>
                <div className="invite">
                  <input readOnly aria-label="Invite link" value={inviteLink(created.code, origin)} onFocus={(e) => e.target.select()} />
                  <CopyButton text={inviteLink(created.code, origin)} />
                </div>
                <Link className="btn btn-primary" to={`/meeting/${encodeURIComponent(created.code)}`}>
                  Start now
                </Link>
              </div>
            )}
          </section>
          <section className="card" aria-labelledby="join-meeting">
            <h2 id="join-meeting">Join a meeting</h2>
            <form onSubmit={join} className="form-row">
              <input
                aria-label="Meeting code or link"
                placeholder="Code or invite link"
                value={joinInput}
                onChange={(e) => {
                  setJoinInput(e.target.value);
                  setJoinError(null);
                }}
              />
              <button type="submit" className="btn btn-secondary" disabled={!joinInput.trim()}>
                Join
              </button>
            </form>
            {joinError && (
              <p className="form-error" role="alert">
                {joinError}
              </p>
            )}
          </section>
        </div>
        <section className="card" aria-labelledby="my-meetings">
          <div className="card-head">
            <h2 id="my-meetings">My meetings</h2>
            <button type="button" className="btn btn-secondary btn-small" onClick={reload}>
              Refresh
            </button>
          </div>
          {listError && (
            <p className="form-error" role="alert">
              {listError}
            </p>
          )}
          {meetings === null && !listError && <p className="muted-text">Loading…</p>}
          {meetings?.length === 0 && <p className="muted-text">No meetings yet. Create one above.</p>}
          {meetings && meetings.length > 0 && (
            <ul className="meeting-list">
              {meetings.map((m) => (
                <li key={m.id} className="meeting-row">
                  <div className="meeting-info">
                    <span className="meeting-title">{m.title}</span>
                    <span className="muted-text">
                      <code>{m.code}</code> · {formatDateTime(m.created_at)}
                    </span>
                    {m.status === "ended" && <PastMeeting meeting={m} />}
                  </div>
                  <StatusBadge status={m.status} />
                  <div className="meeting-actions">
                    <CopyButton text={inviteLink(m.code, origin)} compact label={`Copy invite link for ${m.title}`} />
                    {m.status !== "ended" && (
                      <Link className="btn btn-primary btn-small" to={`/meeting/${encodeURIComponent(m.code)}`} aria-label={`Open ${m.title}`}>
                        Open
                      </Link>
                    )}
                    {m.status !== "ended" && user && m.host_id === user.id && (
                      <button type="button" className="btn btn-secondary btn-small" aria-label={`End ${m.title}`} onClick={() => void end(m)}>
                        End
                      </button>
                    )}
                  </div>
                </li>
              ))}
            </ul>
          )}
          {(offset > 0 || hasMore) && (
            <nav className="pager" aria-label="Meeting pages">
              <button type="button" className="btn btn-secondary btn-small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
                Newer
              </button>
              <button type="button" className="btn btn-secondary btn-small" disabled={!hasMore} onClick={() => setOffset(offset + PAGE)}>
                Older
              </button>
            </nav>
          )}
        </section>
      </main>
    </Layout>
  );
}
