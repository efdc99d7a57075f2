//! Janus VideoRoom as a side-by-side target: the same synthetic publishers and verifying
//! receivers as against our SFU, negotiated through Janus's HTTP API (`/janus`).
//!
//! Janus never offers loopback candidates, so it runs in a network namespace joined to ours by
//! a veth pair (see `docs/benchmarks.md` and the `bench janus-up` subcommand); clients gather
//! only on our end of the pair and keep only Janus's candidates on its end. With `--loss` the
//! candidates of both sides are pointed at a [`LossyRelay`] instead
//! ([`JanusSession::relay_through`]).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use webrtc::api::API;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtp_transceiver::rtp_codec::RTPCodecType;

use crate::error::{BenchError, Result};
use crate::loopback::{
    keep_candidates, new_peer_connection, redirect_candidates, set_local_and_gather, wait_connected,
};
use crate::lossy_relay::LossyRelay;
use crate::media_profile::MediaProfile;
use crate::publisher::{Publisher, PublisherStats, SendTracks};
use crate::track_receiver::TrackReceiver;
use crate::track_stats::TrackLabel;
use crate::wire::{MediaKind, ParticipantId};

/// Where `bench janus-up` puts Janus and the addresses of the veth pair.
pub const JANUS_NETNS: &str = "mmjanus";
pub const HOST_VETH: &str = "mmj0";
pub const JANUS_VETH: &str = "mmj1";
pub const HOST_IP: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
pub const JANUS_IP: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 2);
pub const JANUS_URL: &str = "http://10.99.0.2:8088/janus";
pub const JANUS_DIR: &str = "/tmp/mm-janus";

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>;

fn err(msg: impl Into<String>) -> BenchError {
    BenchError::Protocol(msg.into())
}

/// One Janus session shared by many handles, with one long-poll task delivering events.
pub struct JanusSession {
    http: reqwest::Client,
    base: String,
    id: u64,
    pending: Pending,
    next: AtomicU64,
    poll: JoinHandle<()>,
    /// Addresses of Janus's candidates we accept (its end of the veth pair).
    pub janus_ip: IpAddr,
    pub timeout: Duration,
    /// `--loss`: every PeerConnection's media goes through this relay.
    relay: Option<Arc<LossyRelay>>,
}

impl JanusSession {
    /// `base`: e.g. [`JANUS_URL`]. Refuses any host outside loopback and the veth subnet.
    pub async fn connect(base: &str, janus_ip: IpAddr, timeout: Duration) -> Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?;
        let base = base.trim_end_matches('/').to_owned();
        let created = post(
            &http,
            &base,
            json!({"janus": "create", "transaction": "c0"}),
        )
        .await?;
        let id = created["data"]["id"]
            .as_u64()
            .ok_or_else(|| err(format!("janus create: {created}")))?;
        let pending: Pending = Arc::default();
        let poll = tokio::spawn(long_poll(
            http.clone(),
            format!("{base}/{id}?maxev=50"),
            Arc::clone(&pending),
        ));
        Ok(Self {
            http,
            base,
            id,
            pending,
            next: AtomicU64::new(1),
            poll,
            janus_ip,
            timeout,
            relay: None,
        })
    }

    /// Sends the media of every PeerConnection set up from now on through `relay`: Janus is
    /// told the relay's back address as our client's candidate, our client the relay's front
    /// address as Janus's, and each pair is registered with the relay.
    pub fn relay_through(&mut self, relay: Arc<LossyRelay>) {
        self.relay = Some(relay);
    }

    fn transaction(&self) -> String {
        format!("t{}", self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// Attaches a handle to `janus.plugin.videoroom`.
    pub async fn attach(&self) -> Result<u64> {
        let body = json!({"janus": "attach", "plugin": "janus.plugin.videoroom",
            "transaction": self.transaction()});
        let r = post(&self.http, &format!("{}/{}", self.base, self.id), body).await?;
        r["data"]["id"]
            .as_u64()
            .ok_or_else(|| err(format!("janus attach: {r}")))
    }

    /// Sends a plugin message; returns the plugin's answer (the whole event: `plugindata`,
    /// `jsep`), synchronous or via the long poll.
    pub async fn message(&self, handle: u64, body: Value, jsep: Option<Value>) -> Result<Value> {
        let tx = self.transaction();
        let (send, recv) = oneshot::channel();
        self.pending.lock().expect("lock").insert(tx.clone(), send);
        let mut msg = json!({"janus": "message", "transaction": tx, "body": body});
        if let Some(j) = jsep {
            msg["jsep"] = j;
        }
        let url = format!("{}/{}/{}", self.base, self.id, handle);
        let r = post(&self.http, &url, msg).await;
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                self.pending.lock().expect("lock").remove(&tx);
                return Err(e);
            }
        };
        let event = if r["janus"] == "ack" {
            match tokio::time::timeout(self.timeout, recv).await {
                Ok(Ok(ev)) => ev,
                Ok(Err(_)) => return Err(err("janus session closed")),
                Err(_) => {
                    self.pending.lock().expect("lock").remove(&tx);
                    return Err(BenchError::Timeout(format!("janus event for {tx}")));
                }
            }
        } else {
            self.pending.lock().expect("lock").remove(&tx);
            r
        };
        let data = &event["plugindata"]["data"];
        if event["janus"] == "error" || data.get("error").is_some() {
            return Err(err(format!("janus: {event}")));
        }
        Ok(event)
    }

    /// Tells Janus we have no more candidates (all were in the SDP).
    pub async fn trickle_completed(&self, handle: u64) -> Result<()> {
        let body = json!({"janus": "trickle", "transaction": self.transaction(),
            "candidate": {"completed": true}});
        post(
            &self.http,
            &format!("{}/{}/{}", self.base, self.id, handle),
            body,
        )
        .await?;
        Ok(())
    }

    /// Creates a VideoRoom room for `publishers` publishers at up to `bitrate` bit/s each.
    pub async fn create_room(&self, publishers: usize, bitrate: u32) -> Result<u64> {
        let handle = self.attach().await?;
        let room = rand::random::<u64>() >> 12;
        let body = json!({"request": "create", "room": room, "publishers": publishers.max(1),
            "bitrate": bitrate, "audiocodec": "opus", "videocodec": "vp8",
            "notify_joining": false, "permanent": false});
        self.message(handle, body, None).await?;
        Ok(room)
    }

    /// Destroys the session (and every handle in it).
    pub async fn destroy(&self) {
        let body = json!({"janus": "destroy", "transaction": self.transaction()});
        let _ = post(&self.http, &format!("{}/{}", self.base, self.id), body).await;
        self.poll.abort();
    }

    /// Janus's SDP for our client: only Janus's candidates on its end of the veth pair, pointed
    /// at the relay's front when media is relayed. Also returns Janus's address (relayed only).
    fn sdp_from_janus(&self, sdp: &str) -> Result<(String, Option<SocketAddrV4>)> {
        let ip = self.janus_ip;
        match &self.relay {
            None => Ok((keep_candidates(sdp, move |a| a == ip), None)),
            Some(r) => {
                let (out, found) =
                    redirect_candidates(sdp, move |a| a == ip, r.front_addr().into());
                Ok((out, Some(single_candidate(found, "Janus's")?)))
            }
        }
    }

    /// Our client's SDP for Janus: when media is relayed, its candidate is replaced by the
    /// relay's back address. Also returns the client's own address (relayed only).
    fn sdp_for_janus(&self, sdp: &str) -> Result<(String, Option<SocketAddrV4>)> {
        match &self.relay {
            None => Ok((sdp.to_owned(), None)),
            Some(r) => {
                let (out, found) = redirect_candidates(sdp, |_| true, r.back_addr().into());
                Ok((out, Some(single_candidate(found, "our client's")?)))
            }
        }
    }

    /// Registers a relayed pair (a no-op without a relay).
    fn route(&self, client: Option<SocketAddrV4>, janus: Option<SocketAddrV4>) {
        if let (Some(r), Some(c), Some(j)) = (&self.relay, client, janus) {
            r.add_route(c, j);
        }
    }
}

/// The one IPv4 UDP address a relayed PeerConnection uses on one side.
fn single_candidate(found: Vec<SocketAddr>, whose: &str) -> Result<SocketAddrV4> {
    match found.as_slice() {
        [SocketAddr::V4(a)] => Ok(*a),
        _ => Err(err(format!(
            "{whose} SDP has UDP candidates {found:?}; the lossy relay needs exactly one IPv4 one"
        ))),
    }
}

impl Drop for JanusSession {
    fn drop(&mut self) {
        self.poll.abort();
    }
}

async fn post(http: &reqwest::Client, url: &str, body: Value) -> Result<Value> {
    let v: Value = http.post(url).json(&body).send().await?.json().await?;
    if v["janus"] == "error" {
        return Err(err(format!("janus: {v}")));
    }
    Ok(v)
}

/// Long-polls the session and hands each event with a known transaction to its waiter. The
/// long poll also keeps the session alive.
async fn long_poll(http: reqwest::Client, url: String, pending: Pending) {
    loop {
        let resp = match http.get(&url).send().await {
            Ok(r) => r.json::<Value>().await,
            Err(e) => {
                tracing::warn!("janus long poll: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let Ok(v) = resp else { continue };
        let events = match v {
            Value::Array(a) => a,
            other => vec![other],
        };
        for ev in events {
            let Some(tx) = ev["transaction"].as_str() else {
                if ev["janus"] == "hangup" {
                    tracing::warn!("janus hangup: {ev}");
                }
                continue;
            };
            if let Some(w) = pending.lock().expect("lock").remove(tx) {
                let _ = w.send(ev);
            }
        }
    }
}

fn jsep_sdp(ev: &Value) -> Result<String> {
    ev["jsep"]["sdp"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| err(format!("janus event without jsep: {ev}")))
}

/// One participant on Janus: a publisher handle and/or a subscriber handle, each with its own
/// peer connection (one offerer each, as against our server).
pub struct JanusPeer {
    pub feed_id: Option<u64>,
    publish_pc: Option<Arc<RTCPeerConnection>>,
    subscribe_pc: Option<Arc<RTCPeerConnection>>,
    publisher: Mutex<Option<Publisher>>,
    receivers: Arc<Mutex<Vec<TrackReceiver>>>,
    started: Instant,
}

impl JanusPeer {
    /// A peer that has not joined anything yet; `started` is when its join began (time to
    /// first frame is measured from it).
    pub fn new(started: Instant) -> Self {
        Self {
            feed_id: None,
            publish_pc: None,
            subscribe_pc: None,
            publisher: Mutex::new(None),
            receivers: Arc::default(),
            started,
        }
    }

    /// Joins `room` as a publisher and starts sending `profile`.
    pub async fn publish(
        &mut self,
        s: &JanusSession,
        api: &API,
        room: u64,
        profile: &MediaProfile,
    ) -> Result<()> {
        let handle = s.attach().await?;
        let joined = s
            .message(
                handle,
                json!({"request": "join", "ptype": "publisher", "room": room, "display": "mm-bench"}),
                None,
            )
            .await?;
        let feed = joined["plugindata"]["data"]["id"]
            .as_u64()
            .ok_or_else(|| err(format!("janus join: {joined}")))?;
        let pc = new_peer_connection(api).await?;
        let tracks = SendTracks::add_to(&pc, profile, "mm-bench").await?;
        let offer = pc.create_offer(None).await?;
        let sdp = set_local_and_gather(&pc, offer, s.timeout).await?;
        let (sdp, client) = s.sdp_for_janus(&sdp)?;
        let ev = s
            .message(
                handle,
                json!({"request": "configure", "audio": profile.audio,
                    "video": profile.video.is_some()}),
                Some(json!({"type": "offer", "sdp": sdp})),
            )
            .await?;
        let (answer, janus) = s.sdp_from_janus(&jsep_sdp(&ev)?)?;
        s.route(client, janus);
        pc.set_remote_description(RTCSessionDescription::answer(answer)?)
            .await?;
        s.trickle_completed(handle).await?;
        // Janus lists a feed to subscribers only once its PeerConnection is up.
        wait_connected(&pc, s.timeout).await?;
        *self.publisher.lock().expect("lock") = Some(Publisher::start(&tracks, profile));
        self.feed_id = Some(feed);
        self.publish_pc = Some(pc);
        Ok(())
    }

    /// Subscribes to `feeds` of `room` on one peer connection (Janus offers, we answer).
    pub async fn subscribe(
        &mut self,
        s: &JanusSession,
        api: &API,
        room: u64,
        feeds: &[u64],
    ) -> Result<()> {
        if feeds.is_empty() {
            return Ok(());
        }
        let handle = s.attach().await?;
        let pc = new_peer_connection(api).await?;
        let streams: Vec<Value> = feeds.iter().map(|f| json!({"feed": f})).collect();
        let join = json!({"request": "join", "ptype": "subscriber", "room": room,
            "streams": streams});
        let mut tries = 0;
        let ev = loop {
            match s.message(handle, join.clone(), None).await {
                // 428: the feed's PeerConnection is not up yet.
                Err(e) if tries < 50 && e.to_string().contains("\"error_code\":428") => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                r => break r?,
            }
        };
        // mid -> feed, from the "streams" of the attached event.
        let mut owners: HashMap<String, u64> = HashMap::new();
        if let Some(list) = ev["plugindata"]["data"]["streams"].as_array() {
            for st in list {
                if let (Some(mid), Some(feed)) = (st["mid"].as_str(), st["feed_id"].as_u64()) {
                    owners.insert(mid.to_owned(), feed);
                }
            }
        }
        let receivers = Arc::clone(&self.receivers);
        let weak = Arc::downgrade(&pc);
        let started = self.started;
        pc.on_track(Box::new(move |track, _r, transceiver| {
            let mid = transceiver.mid().map(|m| m.to_string());
            let kind = match track.kind() {
                RTPCodecType::Audio => MediaKind::Audio,
                _ => MediaKind::Video,
            };
            let owner = mid.as_ref().and_then(|m| owners.get(m)).copied();
            let label = TrackLabel {
                kind,
                mid,
                participant_id: owner.map(|f| ParticipantId(f as i64)),
                track_id: None,
                source: None,
            };
            let rx = TrackReceiver::spawn(track, label, started, Some(weak.clone()));
            receivers.lock().expect("lock").push(rx);
            Box::pin(async {})
        }));
        let (offer, janus) = s.sdp_from_janus(&jsep_sdp(&ev)?)?;
        pc.set_remote_description(RTCSessionDescription::offer(offer)?)
            .await?;
        let answer = pc.create_answer(None).await?;
        let sdp = set_local_and_gather(&pc, answer, s.timeout).await?;
        let (sdp, client) = s.sdp_for_janus(&sdp)?;
        // Before Janus learns the address: its first checks must find the route.
        s.route(client, janus);
        s.message(
            handle,
            json!({"request": "start", "room": room}),
            Some(json!({"type": "answer", "sdp": sdp})),
        )
        .await?;
        s.trickle_completed(handle).await?;
        self.subscribe_pc = Some(pc);
        Ok(())
    }

    pub fn with_receivers<R>(&self, f: impl FnOnce(&[TrackReceiver]) -> R) -> R {
        f(&self.receivers.lock().expect("lock"))
    }

    pub fn publisher_stats(&self) -> Option<PublisherStats> {
        self.publisher
            .lock()
            .expect("lock")
            .as_ref()
            .map(Publisher::stats)
    }

    /// Stops sending (the connections stay up), e.g. to let in-flight media drain.
    pub fn stop_sending(&self) {
        if let Some(p) = self.publisher.lock().expect("lock").as_ref() {
            p.set_muted(true, true);
        }
    }

    pub async fn close(&self) {
        if let Some(mut p) = self.publisher.lock().expect("lock").take() {
            p.stop();
        }
        for pc in [&self.publish_pc, &self.subscribe_pc].into_iter().flatten() {
            let _ = pc.close().await;
        }
    }
}
