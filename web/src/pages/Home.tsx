import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { Layout } from "../components/Layout";
import { useAuth } from "../hooks/useAuth";
import { parseMeetingInput } from "../lib/invite";

export default function Home() {
  const { user } = useAuth();
  const navigate = useNavigate();
  const [input, setInput] = useState("");
  const [error, setError] = useState<string | null>(null);
  const join = (e: FormEvent) => {
    e.preventDefault();
    const code = parseMeetingInput(input);
    if (!code) {
      setError("Enter a meeting code or paste an invite link.");
      return;
    }
    navigate(`/meeting/${encodeURIComponent(code)}`);
  };
  return (
    <Layout>
      <main className="hero">
        <div className="hero-text">
          <h1>Video meetings that just work.</h1>
          <p className="lead">Create a meeting, share the link, and talk. Audio and video run through our own media server.</p>
          <div className="hero-actions">
            <Link className="btn btn-primary btn-large" to={user ? "/dashboard" : "/login?next=%2Fdashboard"}>
              {user ? "New meeting" : "Get started"}
            </Link>
          </div>
          <form className="join-inline" onSubmit={join}>
            <input
              aria-label="Meeting code or link"
              placeholder="Enter a code or link"
              value={input}
              onChange={(e) => {
                setInput(e.target.value);
                setError(null);
              }}
            />
            <button type="submit" className="btn btn-secondary" disabled={!input.trim()}>
              Join
            </button>
          </form>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
        </div>
        <div className="hero-art" aria-hidden="true">
          {[0, 1, 2, 3].map((i) => (
            <div key={i} className={`hero-tile h${i}`} />
          ))}
        </div>
      </main>
    </Layout>
  );
}
