//! Several nodes on the run's PostgreSQL and Redis (a key prefix and a schema of the test's
//! own): a participant whose socket lands on any node joins the same meeting and exchanges
//! media with everyone; ownership never splits; a drain moves everyone off a node; the
//! operator endpoints need the operator token.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Backend, TestServer, Timers, rand_suffix, wait_until};
use mm_bench::wire::MediaKind;
use mm_bench::{JoinOptions, Participant, TrackStats};
use serde_json::{Value, json};

/// A bound for slow CI machines, not a performance assertion.
const WAIT: Duration = Duration::from_secs(30);
const ADMIN: &str = "operator-token-for-tests";

/// PostgreSQL and Redis are what a cluster shares; without them there is nothing to test.
fn services() -> bool {
    let have =
        std::env::var("TEST_DATABASE_URL").is_ok() && std::env::var("TEST_REDIS_URL").is_ok();
    if !have {
        assert!(
            std::env::var("MM_REQUIRE_SERVICES").is_err(),
            "MM_REQUIRE_SERVICES is set but TEST_DATABASE_URL or TEST_REDIS_URL is not"
        );
        eprintln!("skipped: a cluster needs TEST_DATABASE_URL and TEST_REDIS_URL");
    }
    have
}

/// `n` nodes of one cluster of the test's own.
async fn cluster(n: usize) -> Vec<TestServer> {
    cluster_on(n, None).await
}

/// `n` nodes on `redis` (default: the run's Redis).
async fn cluster_on(n: usize, redis: Option<String>) -> Vec<TestServer> {
    let prefix = format!("mm_cluster_{}:", rand_suffix());
    let timers = |database| Timers {
        redis_url: redis.clone(),
        ..node_timers(&prefix, database)
    };
    let first = TestServer::start_with(Backend::Postgres, timers(None)).await;
    let database = first.database_url.clone();
    let mut nodes = vec![first];
    for _ in 1..n {
        nodes.push(TestServer::start_with(Backend::Postgres, timers(Some(database.clone()))).await);
    }
    // Every node sees the others before the test places anything.
    wait_until("every node registered", WAIT, || async {
        node_ids(&nodes[0]).await.len() == n
    })
    .await;
    nodes
}

fn node_timers(prefix: &str, database_url: Option<String>) -> Timers {
    Timers {
        redis_key_prefix: Some(prefix.to_owned()),
        database_url,
        admin_token: Some(ADMIN.into()),
        ..Timers::default()
    }
}

async fn stop_all(nodes: Vec<TestServer>) {
    for node in nodes {
        node.stop().await;
    }
}

async fn admin(
    node: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", node.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn node_ids(node: &TestServer) -> BTreeSet<String> {
    let (status, body) = admin(node, reqwest::Method::GET, "/admin/cluster", Some(ADMIN)).await;
    assert_eq!(status, 200, "{body}");
    body["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn wait_media(
    p: &Participant,
    from: mm_bench::wire::ParticipantId,
    what: &str,
) -> Vec<TrackStats> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let tracks = p.stats().remove(&from).unwrap_or_default();
        let has = |kind, n| {
            tracks
                .iter()
                .any(|t: &TrackStats| t.label.kind == kind && !t.ended && t.frames >= n)
        };
        if has(MediaKind::Video, 30) && has(MediaKind::Audio, 50) {
            return tracks;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: media not flowing; tracks from {from:?}: {tracks:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_on_different_nodes_meet_and_exchange_media() {
    if !services() {
        return;
    }
    let nodes = cluster(2).await;
    let (ta, _) = nodes[0].user("Ada").await;
    let (tb, _) = nodes[1].user("Bob").await;
    let code = nodes[0].create_meeting(&ta, "Across nodes").await;
    let a = Participant::join(JoinOptions::new(&nodes[0].base, &ta, &code))
        .await
        .expect("Ada joins through node 1");
    let b = Participant::join(JoinOptions::new(&nodes[1].base, &tb, &code))
        .await
        .expect("Bob joins through node 2");
    let (ida, idb) = (a.participant_id().unwrap(), b.participant_id().unwrap());
    for (at, from, what) in [(&b, ida, "Bob receives Ada"), (&a, idb, "Ada receives Bob")] {
        for t in wait_media(at, from, what).await {
            assert_eq!(t.corrupted, 0, "{what}: {t:#?}");
        }
    }
    // One meeting, one participant list, whichever node answers.
    for node in &nodes {
        let people = node.participants(&ta, &code).await;
        let open = people.iter().filter(|p| p["left_at"].is_null()).count();
        assert_eq!(open, 2, "{people:?}");
    }
    a.close().await;
    b.close().await;
    stop_all(nodes).await;
}

/// A browser's socket forwarded to the owner: its origin matched the node it reached, whose host
/// the owner does not share; the owner must not refuse it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_socket_is_forwarded_whatever_its_origin() {
    if !services() {
        return;
    }
    let nodes = cluster(2).await;
    let (ta, _) = nodes[0].user("Ada").await;
    let (tb, _) = nodes[1].user("Bob").await;
    let code = nodes[0].create_meeting(&ta, "Browsers").await;
    let (mut a, _) = nodes[0].joined(&ta, &code).await;
    let origin = nodes[1].base.clone();
    let mut b = common::WsClient::connect_with_origin(&nodes[1].ws_url, &origin).await;
    b.send(json!({"type": "hello", "version": 1, "token": tb}))
        .await;
    b.expect("welcome").await;
    b.send(json!({"type": "join", "meeting_code": code})).await;
    let joined = b.expect("joined").await;
    let seen = a.expect("participant_joined").await;
    assert_eq!(seen["participant"]["id"], joined["participant_id"]);
    stop_all(nodes).await;
}

/// A session another node forwarded here is never sent on again (no chains or loops while
/// ownership changes hands): it is told to try again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_session_is_not_forwarded_again() {
    if !services() {
        return;
    }
    let nodes = cluster(2).await;
    let (ta, _) = nodes[0].user("Ada").await;
    let (tb, _) = nodes[1].user("Bob").await;
    let code = nodes[0].create_meeting(&ta, "No chains").await;
    let (_a, _) = nodes[0].joined(&ta, &code).await;
    // As node 0 would forward a session to node 1, which does not own the meeting.
    let token = mini_meeting::cluster::node_token(common::JWT_SECRET.as_bytes());
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            nodes[1].ws_url.as_str(),
        )
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(mm_signaling::NODE_TOKEN_HEADER, token.parse().unwrap());
    headers.insert(mm_signaling::CLIENT_IP_HEADER, "127.0.0.1".parse().unwrap());
    let mut b = common::WsClient::connect_request(request).await;
    b.send(json!({"type": "hello", "version": 1, "token": tb}))
        .await;
    b.expect("welcome").await;
    b.send(json!({"type": "join", "meeting_code": code})).await;
    b.expect_error("unavailable").await;
    assert_eq!(b.expect_close().await, 1013);
    stop_all(nodes).await;
}

/// Everyone joins the same new meeting at once, spread over three nodes, so that several
/// nodes try to become its owner together; everyone must end up seeing everyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_joins_never_split_a_meeting() {
    if !services() {
        return;
    }
    let nodes = cluster(3).await;
    const PEOPLE: usize = 6;
    let mut tokens = Vec::new();
    for i in 0..PEOPLE {
        tokens.push(nodes[0].user(&format!("P{i}")).await.0);
    }
    for round in 0..3 {
        let code = nodes[0]
            .create_meeting(&tokens[0], &format!("Race {round}"))
            .await;
        let mut clients = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            clients.push(nodes[i % nodes.len()].ws(token).await);
        }
        let joins = clients.iter_mut().map(|c| {
            let code = code.clone();
            async move {
                c.send(json!({"type": "join", "meeting_code": code})).await;
                c.expect("joined").await
            }
        });
        let joined = futures_util::future::join_all(joins).await;
        let everyone: BTreeSet<i64> = joined
            .iter()
            .map(|j| j["participant_id"].as_i64().unwrap())
            .collect();
        assert_eq!(everyone.len(), PEOPLE);
        for (client, joined) in clients.iter_mut().zip(&joined) {
            let mut known: BTreeSet<i64> = joined["participants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap())
                .collect();
            known.insert(joined["participant_id"].as_i64().unwrap());
            while known != everyone {
                let msg = client.expect("participant_joined").await;
                known.insert(msg["participant"]["id"].as_i64().unwrap());
            }
        }
        for mut c in clients {
            c.send(json!({"type": "leave"})).await;
        }
    }
    stop_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_node_sends_everyone_elsewhere_and_leaves_the_cluster() {
    if !services() {
        return;
    }
    let mut nodes = cluster(2).await;
    let (ta, _) = nodes[0].user("Ada").await;
    let (tb, _) = nodes[0].user("Bob").await;
    let code = nodes[0].create_meeting(&ta, "Drain").await;
    // Ada's meeting starts on node 2 (she connects there); Bob's socket is on node 1.
    let (mut a, joined_a) = nodes[1].joined(&ta, &code).await;
    let (mut b, _) = nodes[0].joined(&tb, &code).await;
    a.expect("participant_joined").await;
    let resume = joined_a["resume_token"].as_str().unwrap().to_owned();

    let (status, body) = admin(
        &nodes[1],
        reqwest::Method::POST,
        "/admin/drain",
        Some(ADMIN),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (202, Some("draining")),
        "{body}"
    );
    assert_eq!(a.expect_close().await, 1012, "Ada is told to reconnect");
    assert_eq!(
        b.expect_close().await,
        1012,
        "Bob too: the meeting's owner drains"
    );

    // Both come back through node 1 and find each other again.
    // The resume token belonged to the drained node's room: the new owner says so, and a
    // plain join brings Ada back as the same participant.
    let mut a = nodes[0].ws(&ta).await;
    a.send(json!({"type": "join", "meeting_code": code, "resume_token": resume}))
        .await;
    a.expect_error("resume_failed").await;
    a.send(json!({"type": "join", "meeting_code": code})).await;
    let rejoined = a.expect("joined").await;
    assert_eq!(rejoined["participant_id"], joined_a["participant_id"]);
    let (mut b, joined_b) = nodes[0].joined(&tb, &code).await;
    let ida = rejoined["participant_id"].as_i64().unwrap();
    let seen: Vec<i64> = joined_b["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(seen, [ida], "Bob sees Ada, once");
    b.send(json!({"type": "leave"})).await;
    a.send(json!({"type": "leave"})).await;

    // The drained node stops by itself and leaves the list.
    let drained = nodes.remove(1);
    wait_until("the drained node left the cluster", WAIT, || async {
        node_ids(&nodes[0]).await.len() == 1
    })
    .await;
    drained.wait_stopped().await;
    stop_all(nodes).await;
}

/// Video frames `p` has received from `from` so far.
fn frames(p: &Participant, from: mm_bench::wire::ParticipantId) -> u64 {
    let tracks = p.stats().remove(&from).unwrap_or_default();
    tracks
        .iter()
        .filter(|t| t.label.kind == MediaKind::Video)
        .map(|t| t.frames)
        .sum()
}

/// Redis goes away mid-meeting and comes back empty: the meeting keeps its media and its
/// signaling across nodes, the owner takes its lease back, the nodes register again, and new
/// meetings are placed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_keeps_meetings_and_signaling_recovers() {
    if !services() {
        return;
    }
    let mut redis = common::redis_server::RedisServer::start().await;
    let nodes = cluster_on(2, Some(redis.url())).await;
    let (ta, _) = nodes[0].user("Ada").await;
    let (tb, _) = nodes[1].user("Bob").await;
    let code = nodes[0].create_meeting(&ta, "Redis restart").await;
    let a = Participant::join(JoinOptions::new(&nodes[0].base, &ta, &code))
        .await
        .unwrap();
    let b = Participant::join(JoinOptions::new(&nodes[1].base, &tb, &code))
        .await
        .unwrap();
    let (ida, idb) = (a.participant_id().unwrap(), b.participant_id().unwrap());
    wait_media(&a, idb, "Ada receives Bob").await;

    redis.kill();
    // Longer than a lease: renewals fail meanwhile, and nobody else can take the meeting.
    tokio::time::sleep(Duration::from_secs(9)).await;
    let before = (frames(&a, idb), frames(&b, ida));
    wait_until("media keeps flowing without Redis", WAIT, || async {
        frames(&a, idb) > before.0 + 30 && frames(&b, ida) > before.1 + 30
    })
    .await;
    b.chat("still here").unwrap();
    wait_until("chat crosses the nodes without Redis", WAIT, || async {
        a.state().chat.iter().any(|m| m.text == "still here")
    })
    .await;

    redis.restart().await;
    wait_until("both nodes registered again", WAIT, || async {
        reqwest::Client::new()
            .get(format!("{}/admin/cluster", nodes[0].base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .ok()
            .filter(|r| r.status() == 200)
            .is_some()
            && node_ids(&nodes[0]).await.len() == 2
    })
    .await;
    // A new meeting across the nodes is placed again.
    let (tc, _) = nodes[0].user("Cy").await;
    let (td, _) = nodes[1].user("Dee").await;
    let other = nodes[0].create_meeting(&tc, "After the restart").await;
    let (mut c, _) = nodes[0].joined(&tc, &other).await;
    let (_d, joined_d) = nodes[1].joined(&td, &other).await;
    let seen = c.expect("participant_joined").await;
    assert_eq!(seen["participant"]["id"], joined_d["participant_id"]);
    let before = frames(&a, idb);
    wait_until("the first meeting's media still flows", WAIT, || async {
        frames(&a, idb) > before + 30
    })
    .await;
    a.close().await;
    b.close().await;
    stop_all(nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_endpoints_need_the_operator_token() {
    if !services() {
        return;
    }
    let nodes = cluster(1).await;
    let node = &nodes[0];
    for token in [None, Some("wrong-token-wrong-token")] {
        for (method, path) in [
            (reqwest::Method::GET, "/admin/cluster"),
            (reqwest::Method::POST, "/admin/drain"),
        ] {
            let (status, body) = admin(node, method, path, token).await;
            assert_eq!(status, 401, "{path} {token:?}: {body}");
            assert_eq!(body["error"]["code"], "unauthorized");
        }
    }
    // A user's access token is not an operator token either.
    let (user, _) = node.user("Eve").await;
    let (status, _) = admin(node, reqwest::Method::GET, "/admin/cluster", Some(&user)).await;
    assert_eq!(status, 401);
    let (status, body) = admin(node, reqwest::Method::GET, "/admin/cluster", Some(ADMIN)).await;
    assert_eq!(status, 200);
    assert_eq!(body["nodes"][0]["id"], body["node"]);
    assert!(
        body["nodes"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    stop_all(nodes).await;

    // A node without ADMIN_TOKEN has no operator endpoints at all.
    let plain = TestServer::start(Backend::Sqlite).await;
    let (status, body) = admin(&plain, reqwest::Method::GET, "/admin/cluster", Some(ADMIN)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("admin_disabled"))
    );
    plain.stop().await;
}
