//! A meeting's recent chat reaches those who were not there when it was said: a late joiner
//! and a participant who reloads get it in `joined`, oldest first, and the history keeps only
//! the newest 100 messages. On SQLite, and on PostgreSQL + Redis when configured.

mod common;

use common::{TestServer, WsClient, backends};
use serde_json::{Value, json};

/// The texts of a `joined` message's chat history, oldest first.
fn history(joined: &Value) -> Vec<String> {
    joined["chat_history"]
        .as_array()
        .expect("joined carries chat_history")
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Sends `text` and waits until its sender hears it back, so the room has recorded it.
async fn say(c: &mut WsClient, text: &str) {
    c.send(json!({"type": "chat", "text": text})).await;
    c.expect_where("chat", |m| m["text"] == text).await;
}

#[tokio::test]
async fn late_joiners_and_reloads_see_the_recent_chat() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (ta, _) = s.user("Ada").await;
        let (tb, _) = s.user("Bob").await;
        let code = s.create_meeting(&ta, "Retro").await;
        let (mut a, first) = s.joined(&ta, &code).await;
        assert_eq!(history(&first), Vec::<String>::new());
        for text in ["one", "two", "three"] {
            say(&mut a, text).await;
        }

        let (mut b, late) = s.joined(&tb, &code).await;
        assert_eq!(history(&late), ["one", "two", "three"]);
        let messages = late["chat_history"].as_array().unwrap();
        assert_eq!(messages[0]["name"], "Ada");
        assert!(
            messages
                .windows(2)
                .all(|w| w[0]["id"].as_u64() < w[1]["id"].as_u64())
        );
        say(&mut b, "four").await;

        // A reload: a new connection of the same user takes the participant over.
        drop(b);
        let (_b, reloaded) = s.joined(&tb, &code).await;
        assert_eq!(history(&reloaded), ["one", "two", "three", "four"]);
        s.stop().await;
    }
}

#[tokio::test]
async fn the_history_keeps_the_newest_hundred_messages() {
    let backend = backends().into_iter().next().expect("SQLite");
    let s = TestServer::start(backend).await;
    let (ta, _) = s.user("Ada").await;
    let (tb, _) = s.user("Bob").await;
    let (tc, _) = s.user("Cy").await;
    let code = s.create_meeting(&ta, "Busy").await;
    let (mut a, _) = s.joined(&ta, &code).await;
    let (mut b, _) = s.joined(&tb, &code).await;
    // Two senders, each within the per-connection burst limit.
    for i in 0..52 {
        say(&mut a, &format!("a{i}")).await;
        say(&mut b, &format!("b{i}")).await;
    }
    let (_c, joined) = s.joined(&tc, &code).await;
    let texts = history(&joined);
    assert_eq!(texts.len(), 100);
    assert_eq!(texts[0], "a2");
    assert_eq!(texts[99], "b51");
    s.stop().await;
}
