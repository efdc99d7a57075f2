import type { ReactNode } from "react";
import { Link, useNavigate } from "react-router";
import { useAuth } from "../hooks/useAuth";

export function Brand() {
  return (
    <Link to="/" className="brand" aria-label="Mini Meeting home">
      <img src="/favicon.svg" alt="" width={28} height={28} />
      <span>Mini Meeting</span>
    </Link>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { session, user } = useAuth();
  const navigate = useNavigate();
  return (
    <div className="page">
      <header className="topbar">
        <Brand />
        <nav className="topnav" aria-label="Account">
          {user ? (
            <>
              <Link to="/dashboard">Dashboard</Link>
              <span className="muted-text hide-narrow">{user.name}</span>
              <button
                type="button"
                className="btn btn-secondary btn-small"
                onClick={async () => {
                  await session.logout();
                  navigate("/");
                }}
              >
                Log out
              </button>
            </>
          ) : (
            <Link to="/login" className="btn btn-primary btn-small">
              Log in
            </Link>
          )}
        </nav>
      </header>
      {children}
    </div>
  );
}
