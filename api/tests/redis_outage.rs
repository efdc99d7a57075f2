//! A Redis outage against a `redis-server` of the test's own: the API keeps answering, fails
//! closed where it must (503 `unavailable`), keeps its rate limit per node, and recovers when
//! Redis comes back on the same port. The bus subscription survives the restart.

mod common;

use std::time::{Duration, Instant};

use mm_api::{Cache, MEETING_EVENTS_CHANNEL};
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{RedisServer, TestApp, TestDb};

/// Bounds every request: an answer must come, however slow the outage makes it.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(4);
const RATE_LIMIT: u64 = 20;

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request
        .send()
        .await
        .expect("answered within the client timeout");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

async fn spawn(db: TestDb, redis: &RedisServer) -> TestApp {
    let cache = Cache::redis(&redis.url(), "mm_outage:")
        .await
        .expect("own redis-server");
    let mut app = common::serve(db, cache, |config| {
        config.trust_proxy = true;
        config.throttle.max_api_requests_per_minute = RATE_LIMIT;
    })
    .await;
    app.client = reqwest::Client::builder()
        .timeout(CLIENT_TIMEOUT)
        .build()
        .unwrap();
    app
}

/// A request from `ip` (through the trusted proxy header), so each phase has its own budget.
fn from(app: &TestApp, ip: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .header("x-forwarded-for", ip)
}

/// A signed-up user, as requests from one address: `login()` and `me()` build fresh requests.
struct User<'a> {
    app: &'a TestApp,
    ip: &'static str,
    email: String,
    token: String,
}

const PASSWORD: &str = "correct horse battery";

impl<'a> User<'a> {
    /// Registers and logs in from `ip`, while the cache is healthy.
    async fn sign_up(app: &'a TestApp, ip: &'static str, name: &str) -> User<'a> {
        let mut user = User {
            app,
            ip,
            email: common::email(),
            token: String::new(),
        };
        let (status, body) = send(
            from(app, ip, reqwest::Method::POST, "/api/auth/register")
                .json(&json!({"email": user.email, "password": PASSWORD, "name": name})),
        )
        .await;
        assert!(status.is_success(), "{status}: {body}");
        let (status, body) = send(user.login()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        user.token = body["access_token"].as_str().unwrap().to_owned();
        assert_eq!(send(user.me()).await.0, StatusCode::OK);
        user
    }

    fn login(&self) -> reqwest::RequestBuilder {
        from(self.app, self.ip, reqwest::Method::POST, "/api/auth/login")
            .json(&json!({"email": self.email, "password": PASSWORD}))
    }

    /// Both a token check and a login need the cache: each is answered 503 `unavailable`.
    async fn is_refused_unavailable(&self) {
        for (what, request) in [("me", self.me()), ("login", self.login())] {
            let (status, body) = send(request).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
            assert_eq!(code(&body), "unavailable", "{what}");
        }
    }

    fn me(&self) -> reqwest::RequestBuilder {
        from(self.app, self.ip, reqwest::Method::GET, "/api/users/me").bearer_auth(&self.token)
    }
}

/// Repeats `request` until it is answered 200; until then only 503 is a right answer.
async fn until_ok(request: impl Fn() -> reqwest::RequestBuilder, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = send(request()).await;
        if status == StatusCode::OK {
            return;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
        assert!(Instant::now() < deadline, "{what} did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn outage_is_answered_and_recovers(db: TestDb) {
    let mut redis = RedisServer::start().await;
    let app = spawn(db, &redis).await;
    let user = User::sign_up(&app, "10.1.0.1", "Alice").await;

    redis.kill();
    user.is_refused_unavailable().await;
    let (status, _) = send(app.client.get(app.url("/readyz"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // The limiter still counts, per node: requests needing no cache pass until the limit.
    let limited = "10.1.0.2";
    for _ in 0..RATE_LIMIT {
        let (status, body) = send(from(&app, limited, reqwest::Method::GET, "/api/meetings")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    let (status, body) = send(from(&app, limited, reqwest::Method::GET, "/api/meetings")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");

    redis.restart().await;
    until_ok(|| user.login(), "login").await;
    assert_eq!(send(user.me()).await.0, StatusCode::OK);
    assert_eq!(
        send(app.client.get(app.url("/readyz"))).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn sqlite_outage_is_answered_and_recovers() {
    outage_is_answered_and_recovers(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn postgres_outage_is_answered_and_recovers() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    outage_is_answered_and_recovers(db).await;
}

/// A Redis that accepts connections and never answers (frozen) is an outage like a dead one:
/// answered 503 within the cache's call timeout, never held, and over when it answers again.
#[tokio::test]
async fn a_hung_redis_is_answered_and_recovers() {
    let redis = RedisServer::start().await;
    let app = spawn(TestDb::sqlite().await, &redis).await;
    let user = User::sign_up(&app, "10.2.0.1", "Hana").await;

    redis.pause();
    user.is_refused_unavailable().await;

    redis.resume();
    until_ok(|| user.me(), "me").await;
}

#[tokio::test]
async fn subscription_survives_a_redis_restart() {
    let mut redis = RedisServer::start().await;
    let cache = Cache::redis(&redis.url(), "mm_bus:").await.unwrap();
    let mut events = cache.subscribe_forever(MEETING_EVENTS_CHANNEL).await;
    cache
        .publish(MEETING_EVENTS_CHANNEL, b"before")
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), events.recv()).await;
    assert_eq!(first.unwrap().as_deref(), Some(&b"before"[..]));

    redis.kill();
    redis.restart().await;
    // Publish until the resubscribed stream hears it (it reconnects with back-off).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let _ = cache.publish(MEETING_EVENTS_CHANNEL, b"after").await;
        match tokio::time::timeout(Duration::from_millis(200), events.recv()).await {
            Ok(message) => {
                assert_eq!(message.as_deref(), Some(&b"after"[..]));
                break;
            }
            Err(_) => assert!(Instant::now() < deadline, "no message after the restart"),
        }
    }
}
