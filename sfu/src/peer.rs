//! [`Peer`]: a participant's two connections (publish: client offers; subscribe: SFU offers),
//! its UpTracks by mid, its DownTracks and its renegotiation queue.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::bwe::Bitrate;
use str0m::change::SdpPendingOffer;
use str0m::config::{CryptoProvider, DtlsCert};
use str0m::media::{Mid, Rid};
use str0m::net::TcpType;
use str0m::rtp::Ssrc;
use str0m::{Candidate, IceCreds, Rtc};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::connection::Connection;
use crate::down_track::DownTrack;
use crate::event::{DownTrackInfo, PeerEvent};
use crate::ids::{MediaKind, PcKind, TrackId};
use crate::negotiation::SubscriberNegotiation;
use crate::simulcast::TrackWant;

/// What a worker gives each new `Rtc`.
pub(crate) struct RtcFactory {
    pub candidates: Vec<SocketAddr>,
    /// Passive ICE-TCP host candidates (empty: ICE-TCP off).
    pub tcp_candidates: Vec<SocketAddr>,
    pub crypto: Arc<CryptoProvider>,
    /// One certificate per worker: generating one per connection cost about 10 M
    /// instructions per peer. The fingerprint is per worker, which reveals nothing the
    /// shared UDP port does not already.
    pub dtls_cert: DtlsCert,
    /// Subscribe connections estimate their bandwidth (`SfuConfig::bandwidth_estimation`).
    pub bandwidth_estimation: bool,
}

/// Packets each video DownTrack keeps to answer NACKs: about 400 ms of 720p video (1 s of
/// 360p), several round trips of a browser's NACK. The payloads are shared with the UpTrack
/// (`Arc`), but each slot costs about 430 bytes of str0m's packet state, all of it kept.
const SEND_BUFFER_VIDEO: usize = 96;

/// Source streams remembered per publish connection (str0m bounds its own streams too).
const MAX_KNOWN_SSRCS: usize = 32;

/// Where a subscribe connection's bandwidth estimate starts: what a few 720p videos need, so
/// a small meeting starts at full quality and a slower link is found within seconds.
const INITIAL_ESTIMATE: Bitrate = Bitrate::mbps(5);

impl RtcFactory {
    /// A factory with a fresh certificate; `None` when the crypto provider cannot make one.
    pub fn new(
        candidates: Vec<SocketAddr>,
        tcp_candidates: Vec<SocketAddr>,
        crypto: Arc<CryptoProvider>,
        bandwidth_estimation: bool,
    ) -> Option<Self> {
        let dtls_cert = crypto.dtls_provider.generate_certificate()?;
        Some(RtcFactory {
            candidates,
            tcp_candidates,
            crypto,
            dtls_cert,
            bandwidth_estimation,
        })
    }

    /// A server-side `Rtc`: ICE-lite (the client is always the controlling agent, so the SFU
    /// never sends connectivity checks and every STUN message it gets names our ufrag), Opus
    /// and VP8 only (with RTX for NACK repair), stats every second, RTP mode (packets are
    /// forwarded as they arrive, never held back for the rest of a frame). `estimate`: with
    /// bandwidth estimation (TWCC), for a subscribe connection.
    pub fn build(&self, now: Instant, estimate: bool) -> (Rtc, String) {
        let creds = IceCreds::new();
        let ufrag = creds.ufrag.clone();
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .set_local_ice_credentials(creds)
            .set_crypto_provider(self.crypto.clone())
            .set_dtls_cert(self.dtls_cert.clone())
            .set_rtp_mode(true)
            .set_send_buffer_video(SEND_BUFFER_VIDEO)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .set_stats_interval(Some(Duration::from_secs(1)))
            .enable_bwe((estimate && self.bandwidth_estimation).then_some(INITIAL_ESTIMATE))
            .build(now);
        for a in &self.candidates {
            match Candidate::host(*a, "udp") {
                Ok(c) => {
                    rtc.add_local_candidate(c);
                }
                Err(e) => tracing::warn!("bad local candidate {a}: {e}"),
            }
        }
        // Type preference 90 against UDP's 126: a client that can use both picks UDP.
        for a in &self.tcp_candidates {
            match Candidate::builder()
                .tcp()
                .host(*a)
                .tcptype(TcpType::Passive)
                .build()
            {
                Ok(c) => {
                    rtc.add_local_candidate(c);
                }
                Err(e) => tracing::warn!("bad local TCP candidate {a}: {e}"),
            }
        }
        (rtc, ufrag)
    }
}

/// The m-line and simulcast RID (`None`: no simulcast) an incoming stream is bound to.
type MidRid = (Mid, Option<Rid>);

/// A participant's WebRTC endpoints on the SFU side.
pub(crate) struct Peer {
    events: mpsc::Sender<PeerEvent>,
    pub publish: Connection,
    pub subscribe: Connection,
    /// Audio/video m-lines the client announced on the publish connection.
    pub offered_up: Vec<(Mid, MediaKind)>,
    /// Current UpTracks (at most `max_tracks_per_peer`, so a Vec is the fastest map).
    pub up: Vec<(Mid, TrackId)>,
    /// Incoming SSRC → the mid and simulcast RID it belongs to (`None`: not forwarded).
    known_ssrcs: Vec<(Ssrc, Option<MidRid>)>,
    pub down: HashMap<TrackId, DownTrack>,
    /// `track_settings` for tracks of the room this peer has no DownTrack of yet: a track
    /// published on another worker reaches this one a moment after the roster told the
    /// client of it. Taken when the DownTrack is made; at most one per UpTrack of the room.
    pub early_wants: HashMap<TrackId, TrackWant>,
    pub down_by_mid: HashMap<Mid, TrackId>,
    pub negotiation: SubscriberNegotiation<TrackId>,
    pub pending_offer: Option<SdpPendingOffer>,
    /// At least one subscriber offer was made.
    pub sub_offered: bool,
    /// At least one subscriber offer was answered.
    pub sub_answered: bool,
    /// The home's placement serial (see `placement`), sent back should the SFU remove it.
    pub placement: u64,
    /// The subscribe connection's bandwidth estimate, while str0m can measure it (TWCC).
    pub bwe: Option<BweEstimate>,
    /// The (minimum, desired) bitrates last given to str0m's estimator, to give only changes.
    pub bwe_asked: Option<(u64, u64)>,
}

/// str0m's estimate of what can be sent to a subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BweEstimate {
    /// Bits per second.
    pub bps: u64,
    /// Since when estimates come (the allocator lets str0m's first probes settle).
    pub since: Instant,
    /// When the estimate was last restarted higher, or the subscriber last had all it wants.
    pub restarted_at: Instant,
    /// The last restart's bitrate, until the next restart judges it.
    pub restarted_to: Option<u64>,
    /// How long until the next restart while the subscriber is short of bandwidth.
    pub restart_after: std::time::Duration,
    /// Since when the allocation would take a layer away (applied once it lasts).
    pub short_since: Option<Instant>,
}

impl Peer {
    /// A new peer and the local ufrags of its publish and subscribe connections.
    pub fn new(
        events: mpsc::Sender<PeerEvent>,
        factory: &RtcFactory,
        now: Instant,
    ) -> (Peer, String, String) {
        let (p, pu) = factory.build(now, false);
        let (s, su) = factory.build(now, true);
        let peer = Peer {
            events,
            publish: Connection::new(p, PcKind::Publish, now),
            subscribe: Connection::new(s, PcKind::Subscribe, now),
            offered_up: Vec::new(),
            up: Vec::new(),
            known_ssrcs: Vec::new(),
            down: HashMap::new(),
            early_wants: HashMap::new(),
            down_by_mid: HashMap::new(),
            negotiation: SubscriberNegotiation::default(),
            pending_offer: None,
            sub_offered: false,
            sub_answered: false,
            placement: 0,
            bwe: None,
            bwe_asked: None,
        };
        (peer, pu, su)
    }

    pub fn conn_mut(&mut self, pc: PcKind) -> &mut Connection {
        match pc {
            PcKind::Publish => &mut self.publish,
            PcKind::Subscribe => &mut self.subscribe,
        }
    }

    /// The UpTrack published on `mid`.
    pub fn up_track(&self, mid: Mid) -> Option<TrackId> {
        self.up.iter().find(|(m, _)| *m == mid).map(|(_, t)| *t)
    }

    /// The UpTrack and simulcast layer (RID) an incoming RTP packet of `ssrc` belongs to.
    /// The first packet of a stream asks str0m which m-line and RID it was bound to.
    pub fn up_track_for_ssrc(&mut self, ssrc: Ssrc) -> Option<(TrackId, Option<Rid>)> {
        let found = match self.known_ssrcs.iter().find(|(s, _)| *s == ssrc) {
            Some((_, found)) => *found,
            None => {
                let found = self
                    .publish
                    .call(|rtc| {
                        rtc.direct_api()
                            .stream_rx(&ssrc)
                            .map(|s| (s.mid(), s.rid()))
                    })
                    .ok()
                    .flatten();
                if self.known_ssrcs.len() >= MAX_KNOWN_SSRCS {
                    self.known_ssrcs.clear();
                }
                self.known_ssrcs.push((ssrc, found));
                found
            }
        };
        let (mid, rid) = found?;
        Some((self.up_track(mid)?, rid))
    }

    /// DownTracks to list in a subscriber offer.
    pub fn down_infos(&self) -> Vec<DownTrackInfo> {
        let mut v: Vec<DownTrackInfo> = self
            .down
            .iter()
            .filter(|(_, d)| !d.removing)
            .filter_map(|(t, d)| {
                d.mid.map(|mid| DownTrackInfo {
                    mid: mid.to_string(),
                    publisher: d.publisher,
                    publisher_mid: d.publisher_mid.to_string(),
                    track: *t,
                    kind: d.kind,
                })
            })
            .collect();
        v.sort_by(|a, b| a.mid.cmp(&b.mid));
        v
    }

    /// Sends an event to signaling without blocking the media worker. If the channel is full,
    /// a task delivers it (events are rare: never per packet).
    pub fn emit(&self, ev: PeerEvent) {
        match self.events.try_send(ev) {
            Ok(()) => {}
            Err(TrySendError::Full(ev)) => {
                let tx = self.events.clone();
                tokio::spawn(async move {
                    let _ = tx.send(ev).await;
                });
            }
            Err(TrySendError::Closed(_)) => {}
        }
    }
}
