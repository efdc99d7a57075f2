//! Three server processes (the real binary) on the run's PostgreSQL and Redis, behind HAProxy:
//! a meeting whose participants' sockets are on all three nodes, its owner node killed with
//! SIGKILL, everyone back with media by themselves; whoever does not come back gets `left_at`
//! from a surviving node. Then a drain moves everyone off another node, media included.
//!
//! The times it prints (kill to media back, drain to media back) are measurements for
//! docs/cluster.md, not assertions.

mod common;

use std::time::{Duration, Instant};

use common::load_balancer::LoadBalancer;
use common::{drop_schema, pg_schema_url, rand_suffix, wait_until};
use mm_bench::server_process::ServerProcess;
use mm_bench::wire::{MediaKind, ParticipantId};
use mm_bench::{ApiClient, JoinOptions, Participant, RejoiningParticipant};
use serde_json::Value;

/// A bound for slow CI machines, not a performance assertion.
const WAIT: Duration = Duration::from_secs(60);
const ADMIN: &str = "operator-token-for-tests";

/// PostgreSQL, Redis and HAProxy, or a note that the test is skipped (a failure when the run
/// requires its services).
fn services() -> Option<(String, String)> {
    let haproxy = std::process::Command::new("haproxy")
        .arg("-v")
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    match (
        std::env::var("TEST_DATABASE_URL"),
        std::env::var("TEST_REDIS_URL"),
    ) {
        (Ok(db), Ok(redis)) if haproxy => Some((db, redis)),
        _ => {
            assert!(
                std::env::var("MM_REQUIRE_SERVICES").is_err(),
                "MM_REQUIRE_SERVICES is set but TEST_DATABASE_URL, TEST_REDIS_URL or haproxy is missing"
            );
            eprintln!("skipped: needs TEST_DATABASE_URL, TEST_REDIS_URL and haproxy");
            None
        }
    }
}

struct Cluster {
    nodes: Vec<Option<ServerProcess>>,
    prefix: String,
    redis: String,
}

impl Cluster {
    fn start(n: usize, database: String, redis: String) -> Self {
        let prefix = format!("mm_failover_{}:", rand_suffix());
        let env = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let database = &database;
        let nodes = (0..n)
            .map(|_| {
                let vars = [
                    env("DATABASE_URL", database),
                    env("REDIS_URL", &redis),
                    env("REDIS_KEY_PREFIX", &prefix),
                    env("ADMIN_TOKEN", ADMIN),
                    // Whoever does not come back within this is reaped.
                    env("RECONNECT_GRACE_SECS", "10"),
                    env("SFU_WORKERS", "1"),
                    env("SFU_ICE_TCP", "false"),
                ];
                let bin = std::path::Path::new(env!("CARGO_BIN_EXE_mini-meeting"));
                Some(ServerProcess::spawn(bin, &vars).expect("node starts"))
            })
            .collect();
        Self {
            nodes,
            prefix,
            redis,
        }
    }

    fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .flatten()
            .map(|n| n.base_url.clone())
            .collect()
    }

    /// The node that owns the meeting now (from its lease).
    async fn owner(&self, code: &str) -> usize {
        let cache = mm_api::Cache::redis(&self.redis, &self.prefix)
            .await
            .unwrap();
        let (holder, _) = cache
            .lease_holder(&format!("meeting:{code}"))
            .await
            .unwrap()
            .expect("someone owns the meeting");
        let url = holder.split_once(' ').unwrap().1.to_owned();
        self.nodes
            .iter()
            .position(|n| n.as_ref().is_some_and(|n| n.base_url == url))
            .expect("the owner is one of ours")
    }

    fn kill(&mut self, i: usize) {
        // Dropping the process sends SIGKILL.
        drop(self.nodes[i].take());
    }
}

async fn cluster_size(base: &str) -> usize {
    let res = reqwest::Client::new()
        .get(format!("{base}/admin/cluster"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    body["nodes"].as_array().map_or(0, Vec::len)
}

/// Video frames and audio packets `p` has received from `from` so far.
fn received(p: &Participant, from: ParticipantId) -> (u64, u64) {
    let tracks = p.stats().remove(&from).unwrap_or_default();
    let count = |kind| {
        tracks
            .iter()
            .filter(|t| t.label.kind == kind && !t.ended)
            .map(|t| {
                if kind == MediaKind::Video {
                    t.frames
                } else {
                    t.packets
                }
            })
            .sum::<u64>()
    };
    (count(MediaKind::Video), count(MediaKind::Audio))
}

/// Waits until every participant has joined at least `rejoins` times again and receives media
/// from every other one through the participant object it has now.
async fn everyone_receives_everyone(people: &[&RejoiningParticipant], rejoins: u64, what: &str) {
    wait_until(what, WAIT, || async {
        people.iter().enumerate().all(|(i, p)| {
            let now = p.current();
            p.rejoins() >= rejoins
                && people
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .all(|(_, other)| {
                        let Some(from) = other.current().participant_id() else {
                            return false;
                        };
                        let (video, audio) = received(&now, from);
                        video >= 10 && audio >= 20
                    })
        })
    })
    .await;
}

/// Who has an open participation in the meeting, by name, sorted.
async fn open_participants(base: &str, token: &str, code: &str) -> Vec<String> {
    let res = reqwest::Client::new()
        .get(format!("{base}/api/meetings/{code}/participants"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    let rows = match body {
        Value::Array(rows) => rows,
        other => other["items"].as_array().cloned().unwrap_or_default(),
    };
    let mut names: Vec<String> = rows
        .iter()
        .filter(|r| r["left_at"].is_null())
        .map(|r| r["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort_unstable();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_owner_and_a_drained_node_lose_nobody() {
    let Some((_, redis)) = services() else { return };
    let database = pg_schema_url().await;
    let mut cluster = Cluster::start(3, database.clone(), redis);
    let lb = LoadBalancer::start(&cluster.urls()).await;
    wait_until("three nodes registered", WAIT, || async {
        cluster_size(&lb.base).await == 3
    })
    .await;

    let api = ApiClient::new(&cluster.urls()[0]);
    let mut tokens = Vec::new();
    for name in ["Ada", "Bob", "Cy", "Dee"] {
        let email = format!("{}-{}@example.org", name.to_lowercase(), rand_suffix());
        api.register(&email, "correct horse battery", name)
            .await
            .unwrap();
        tokens.push(
            api.login(&email, "correct horse battery")
                .await
                .unwrap()
                .access_token,
        );
    }
    let code = api
        .create_meeting(&tokens[0], "Failover")
        .await
        .unwrap()
        .code;
    // Through the load balancer, round robin: the sockets spread over the nodes. Ada, Bob and
    // Cy come back by themselves; Dee does not.
    let urls = vec![lb.base.clone()];
    let mut people = Vec::new();
    for token in &tokens[..3] {
        let opts = JoinOptions::new(&lb.base, token, &code);
        people.push(
            RejoiningParticipant::join(opts, urls.clone())
                .await
                .expect("joins"),
        );
    }
    let dee = Participant::join(JoinOptions::new(&lb.base, &tokens[3], &code))
        .await
        .expect("Dee joins");
    let everyone: Vec<&RejoiningParticipant> = people.iter().collect();
    everyone_receives_everyone(&everyone, 0, "media before the kill").await;
    let ids: Vec<_> = people
        .iter()
        .map(|p| p.current().participant_id())
        .collect();

    let owner = cluster.owner(&code).await;
    let killed_at = Instant::now();
    cluster.kill(owner);
    everyone_receives_everyone(&everyone, 1, "media after the owner was killed").await;
    eprintln!(
        "MEASURED kill -> everyone receiving everyone again: {:.1} s",
        killed_at.elapsed().as_secs_f64()
    );
    assert_ne!(cluster.owner(&code).await, owner);
    let again: Vec<_> = people
        .iter()
        .map(|p| p.current().participant_id())
        .collect();
    assert_eq!(ids, again, "everyone came back as the same participant");

    // One open participation per person who came back; Dee's is closed by a survivor.
    let host = &tokens[0];
    let survivor = cluster.urls()[0].clone();
    wait_until("Dee's participation closed, nobody twice", WAIT, || async {
        open_participants(&survivor, host, &code).await == ["Ada", "Bob", "Cy"]
    })
    .await;
    drop(dee);

    // A drain of the new owner moves everyone again.
    let owner = cluster.owner(&code).await;
    let drained_at = Instant::now();
    let res = reqwest::Client::new()
        .post(format!(
            "{}/admin/drain",
            cluster.nodes[owner].as_ref().unwrap().base_url
        ))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    everyone_receives_everyone(&everyone, 2, "media after the drain").await;
    eprintln!(
        "MEASURED drain -> everyone receiving everyone again: {:.1} s",
        drained_at.elapsed().as_secs_f64()
    );
    assert_ne!(cluster.owner(&code).await, owner);

    for p in people {
        p.close().await;
    }
    drop(lb);
    drop(cluster);
    drop_schema(&database).await;
}
