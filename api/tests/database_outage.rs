//! A PostgreSQL outage, played with a TCP proxy of the test's own between the API and the
//! shared server: requests that need the database answer 503 `unavailable` (clients retry; not
//! 500, not a hang) whether the server refuses connections or accepts them and never answers,
//! and the API recovers by itself when the database is back. SQLite lives in the process and
//! has no such outage.

mod common;

use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use mm_api::{Cache, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{ProxyMode, TcpProxy, TestDb};

/// Only bounds the test: without the fix a silent database held requests forever.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("answered, not held");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn assert_unavailable((status, body): (StatusCode, Value)) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
}

/// The same schema reached through `proxy`.
fn through(url: &str, proxy: &TcpProxy) -> String {
    let mut url = reqwest::Url::parse(url).expect("database URL");
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.addr().port())).unwrap();
    url.to_string()
}

#[tokio::test]
async fn postgres_outage_answers_unavailable_and_recovers() {
    let Some(mut db) = TestDb::postgres().await else {
        return;
    };
    let url = db.postgres_url().expect("a PostgreSQL schema");
    let parsed = reqwest::Url::parse(&url).unwrap();
    let target = (parsed.host_str().unwrap(), parsed.port().unwrap_or(5432))
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap();
    let proxy = TcpProxy::start(target).await;
    db.store = Store::connect(&through(&url, &proxy))
        .await
        .expect("store through the proxy");
    let mut app = common::serve(db, Cache::memory(), |config| {
        config.request_timeout = Duration::from_secs(2);
    })
    .await;
    app.client = reqwest::Client::builder()
        .timeout(CLIENT_TIMEOUT)
        .build()
        .unwrap();

    let (email, password) = (common::email(), "correct horse battery");
    let (status, _) = send(
        app.client
            .post(app.url("/api/auth/register"))
            .json(&json!({"email": email, "password": password, "name": "Alice"})),
    )
    .await;
    assert!(status.is_success(), "{status}");
    let login = || {
        app.client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": email, "password": password}))
    };
    let (status, body) = send(login()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let meetings = || app.client.get(app.url("/api/meetings")).bearer_auth(&token);
    assert_eq!(send(meetings()).await.0, StatusCode::OK);

    // Refused: every pooled connection is lost and no new one opens.
    proxy.set(ProxyMode::Cut);
    assert_unavailable(send(meetings()).await);
    assert_unavailable(send(login()).await);
    assert_eq!(
        send(app.client.get(app.url("/readyz"))).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );

    proxy.set(ProxyMode::Forward);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = send(meetings()).await;
        if status == StatusCode::OK {
            break;
        }
        assert_unavailable((status, body));
        assert!(Instant::now() < deadline, "the API did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Silent: connections stay open, nothing answers; the request deadline answers instead.
    proxy.set(ProxyMode::Hang);
    assert_unavailable(send(meetings()).await);
    assert_unavailable(send(login()).await);
}
