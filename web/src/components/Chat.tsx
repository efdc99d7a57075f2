import { useEffect, useRef, useState, type FormEvent } from "react";
import { formatTime } from "../lib/api";
import { useMeeting, useMeetingClient } from "../hooks/useMeeting";

const MAX_LEN = 2000;

export function Chat() {
  const client = useMeetingClient();
  const messages = useMeeting((s) => s.chat);
  const selfId = useMeeting((s) => s.selfId);
  const connected = useMeeting((s) => s.phase === "joined");
  const [text, setText] = useState("");
  const listRef = useRef<HTMLOListElement>(null);

  useEffect(() => {
    client.setChatOpen(true);
    return () => client.setChatOpen(false);
  }, [client]);

  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (client.sendChat(text)) setText("");
  };

  return (
    <div className="chat">
      <ol ref={listRef} className="chat-list" aria-live="polite" aria-label="Chat messages">
        {messages.length === 0 && <li className="chat-empty">No messages yet. Say hello!</li>}
        {messages.map((m) => (
          <li key={String(m.id)} className={`chat-msg${m.participant_id === selfId ? " mine" : ""}`}>
            <div className="chat-meta">
              <span className="chat-name">{m.participant_id === selfId ? "You" : m.name}</span>
              <time dateTime={m.sent_at}>{formatTime(m.sent_at)}</time>
            </div>
            <div className="chat-text">{m.text}</div>
          </li>
        ))}
      </ol>
      <form className="chat-form" onSubmit={submit}>
        <input
          aria-label="Chat message"
          placeholder={connected ? "Send a message to everyone" : "Reconnecting…"}
          value={text}
          maxLength={MAX_LEN}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="btn btn-primary btn-small" aria-label="Send message" disabled={!text.trim() || !connected}>
          Send
        </button>
      </form>
    </div>
  );
}
