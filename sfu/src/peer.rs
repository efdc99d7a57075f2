//! [`Peer`]: a participant's two connections (publish: client offers; subscribe: SFU offers),
//! its UpTracks by mid, its DownTracks and its renegotiation queue.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::SdpPendingOffer;
use str0m::config::CryptoProvider;
use str0m::media::Mid;
use str0m::{Candidate, IceCreds, Rtc};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::connection::Connection;
use crate::event::{DownTrackInfo, PeerEvent};
use crate::ids::{MediaKind, PcKind, PeerId, TrackId};
use crate::negotiation::SubscriberNegotiation;

/// One UpTrack forwarded to this peer.
#[derive(Debug, Clone)]
pub(crate) struct DownTrack {
    pub publisher: PeerId,
    /// The UpTrack's mid in the publisher's publish connection (how signaling knows what the
    /// publisher declared it to be, without waiting for any other event).
    pub publisher_mid: Mid,
    pub kind: MediaKind,
    /// Mid in the subscribe connection, allocated when first offered.
    pub mid: Option<Mid>,
    /// The client accepted an offer containing it.
    pub negotiated: bool,
    /// Removal queued or offered; no media is forwarded any more.
    pub removing: bool,
    /// `stop_media` is in the outstanding offer.
    pub stop_offered: bool,
    /// Video: hold back delta frames until a keyframe (new subscriber, reconnect).
    pub needs_keyframe: bool,
    /// Last cumulative NACK count seen in egress stats.
    pub nacks_seen: u64,
}

impl DownTrack {
    pub fn new(publisher: PeerId, publisher_mid: Mid, kind: MediaKind) -> Self {
        DownTrack {
            publisher,
            publisher_mid,
            kind,
            mid: None,
            negotiated: false,
            removing: false,
            stop_offered: false,
            needs_keyframe: kind == MediaKind::Video,
            nacks_seen: 0,
        }
    }
}

/// What a worker gives each new `Rtc`.
pub(crate) struct RtcFactory {
    pub candidates: Vec<SocketAddr>,
    pub crypto: Arc<CryptoProvider>,
}

impl RtcFactory {
    /// A server-side `Rtc`: ICE-lite (the client is always the controlling agent, so the SFU
    /// never sends connectivity checks and every STUN message it gets names our ufrag), Opus
    /// and VP8 only (with RTX for NACK repair), stats every second.
    pub fn build(&self, now: Instant) -> (Rtc, String) {
        let creds = IceCreds::new();
        let ufrag = creds.ufrag.clone();
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .set_local_ice_credentials(creds)
            .set_crypto_provider(self.crypto.clone())
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .set_stats_interval(Some(Duration::from_secs(1)))
            .build(now);
        for a in &self.candidates {
            match Candidate::host(*a, "udp") {
                Ok(c) => {
                    rtc.add_local_candidate(c);
                }
                Err(e) => tracing::warn!("bad local candidate {a}: {e}"),
            }
        }
        (rtc, ufrag)
    }
}

/// A participant's WebRTC endpoints on the SFU side.
pub(crate) struct Peer {
    events: mpsc::Sender<PeerEvent>,
    pub publish: Connection,
    pub subscribe: Connection,
    /// Audio/video m-lines the client announced on the publish connection.
    pub offered_up: Vec<(Mid, MediaKind)>,
    /// Current UpTracks (at most `max_tracks_per_peer`, so a Vec is the fastest map).
    pub up: Vec<(Mid, TrackId)>,
    pub down: HashMap<TrackId, DownTrack>,
    pub down_by_mid: HashMap<Mid, TrackId>,
    pub negotiation: SubscriberNegotiation<TrackId>,
    pub pending_offer: Option<SdpPendingOffer>,
    /// At least one subscriber offer was made.
    pub sub_offered: bool,
    /// At least one subscriber offer was answered.
    pub sub_answered: bool,
}

impl Peer {
    /// A new peer and the local ufrags of its publish and subscribe connections.
    pub fn new(
        events: mpsc::Sender<PeerEvent>,
        factory: &RtcFactory,
        now: Instant,
    ) -> (Peer, String, String) {
        let (p, pu) = factory.build(now);
        let (s, su) = factory.build(now);
        let peer = Peer {
            events,
            publish: Connection::new(p, PcKind::Publish, now),
            subscribe: Connection::new(s, PcKind::Subscribe, now),
            offered_up: Vec::new(),
            up: Vec::new(),
            down: HashMap::new(),
            down_by_mid: HashMap::new(),
            negotiation: SubscriberNegotiation::default(),
            pending_offer: None,
            sub_offered: false,
            sub_answered: false,
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
