//! The state a participant's tasks share, and the tasks: the event loop that applies server
//! messages in order (answering SDP inline) and the heartbeat.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtp_transceiver::rtp_codec::RTPCodecType;

use super::JoinOptions;
use crate::error::Result;
use crate::loopback::{keep_loopback_candidates, set_local_and_gather};
use crate::participant_state::ParticipantSnapshot;
use crate::publisher::SendTracks;
use crate::signaling_connection::{Incoming, SignalingSender};
use crate::track_receiver::TrackReceiver;
use crate::track_stats::TrackLabel;
use crate::wire::{ClientMessage, MediaKind, ServerMessage};

/// What the participant's handle, its event loop and its WebRTC callbacks share.
pub(super) struct Inner {
    pub(super) opts: JoinOptions,
    pub(super) state: watch::Sender<ParticipantSnapshot>,
    pub(super) publish_pc: Arc<RTCPeerConnection>,
    pub(super) subscribe_pc: Arc<RTCPeerConnection>,
    pub(super) tracks: SendTracks,
    pub(super) receivers: Arc<Mutex<Vec<TrackReceiver>>>,
}

impl Inner {
    pub(super) fn watch_peer_connections(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        self.publish_pc
            .on_peer_connection_state_change(Box::new(move |st| {
                if let Some(inner) = weak.upgrade() {
                    inner.state.send_modify(|s| s.publish_pc = st);
                }
                Box::pin(async {})
            }));
        let weak = Arc::downgrade(self);
        self.subscribe_pc
            .on_peer_connection_state_change(Box::new(move |st| {
                if let Some(inner) = weak.upgrade() {
                    inner.state.send_modify(|s| s.subscribe_pc = st);
                }
                Box::pin(async {})
            }));
    }

    /// Starts a [`TrackReceiver`] for every track the subscribe connection gets, labelled with
    /// the owner the latest `subscriber_offer` gave its mid.
    pub(super) fn handle_remote_tracks(self: &Arc<Self>, started: Instant) {
        let state = self.state.subscribe();
        let receivers = Arc::clone(&self.receivers);
        let pc: Weak<RTCPeerConnection> = Arc::downgrade(&self.subscribe_pc);
        self.subscribe_pc
            .on_track(Box::new(move |track, _receiver, transceiver| {
                let mid = transceiver.mid().map(|m| m.to_string());
                let remote = mid
                    .as_deref()
                    .and_then(|m| state.borrow().remote_track(m).cloned());
                let kind = match track.kind() {
                    RTPCodecType::Audio => MediaKind::Audio,
                    _ => MediaKind::Video,
                };
                let label = TrackLabel {
                    kind: remote.as_ref().map_or(kind, |r| r.kind),
                    mid,
                    participant_id: remote.as_ref().map(|r| r.participant_id),
                    track_id: remote.as_ref().map(|r| r.track_id.clone()),
                    source: remote.as_ref().map(|r| r.source),
                };
                let rx = TrackReceiver::spawn(track, label, started, Some(pc.clone()));
                receivers.lock().expect("lock").push(rx);
                Box::pin(async {})
            }));
    }

    pub(super) fn local_error(&self, what: &str, e: impl std::fmt::Display) {
        tracing::warn!("{what}: {e}");
        self.state
            .send_modify(|s| s.local_errors.push(format!("{what}: {e}")));
    }

    pub(super) async fn on_subscriber_offer(
        &self,
        sdp: &str,
        sender: &SignalingSender,
    ) -> Result<()> {
        let pc = &self.subscribe_pc;
        let offer = RTCSessionDescription::offer(keep_loopback_candidates(sdp))?;
        pc.set_remote_description(offer).await?;
        let answer = pc.create_answer(None).await?;
        let sdp = set_local_and_gather(pc, answer, self.opts.timeout).await?;
        sender.send(&ClientMessage::SubscriberAnswer { sdp })?;
        self.state.send_modify(|s| s.subscriber_answers += 1);
        Ok(())
    }

    pub(super) async fn on_publish_answer(&self, sdp: &str) -> Result<()> {
        let answer = RTCSessionDescription::answer(keep_loopback_candidates(sdp))?;
        self.publish_pc.set_remote_description(answer).await?;
        self.state.send_modify(|s| s.publish_answers += 1);
        Ok(())
    }
}

/// Applies server messages in order; negotiates SDP inline so offers are answered in order.
pub(super) async fn event_loop(
    inner: Weak<Inner>,
    sender: SignalingSender,
    mut incoming: mpsc::UnboundedReceiver<Incoming>,
) {
    while let Some(item) = incoming.recv().await {
        let Some(inner) = inner.upgrade() else { return };
        match item {
            Incoming::Message(msg) => {
                // Record first, so the track map is current before on_track can fire.
                inner.state.send_modify(|s| s.apply(&msg));
                match *msg {
                    ServerMessage::SubscriberOffer { sdp, .. } => {
                        if let Err(e) = inner.on_subscriber_offer(&sdp, &sender).await {
                            inner.local_error("subscriber offer", e);
                        }
                    }
                    ServerMessage::PublishAnswer { sdp } => {
                        if let Err(e) = inner.on_publish_answer(&sdp).await {
                            inner.local_error("publish answer", e);
                        }
                    }
                    ServerMessage::PublishLayers { mid, active, .. } => {
                        if let Some(v) = &inner.tracks.video
                            && v.mid().as_deref() == Some(mid.as_str())
                        {
                            v.set_active_layers(&active);
                        }
                    }
                    _ => {}
                }
            }
            Incoming::Unparsed(text) => inner.state.send_modify(|s| s.unparsed.push(text)),
            Incoming::Closed(close) => {
                inner.state.send_modify(|s| {
                    s.connected = false;
                    s.close = Some(close);
                });
                return;
            }
        }
    }
}

/// Application-level pings, so the server sees life even if WebSocket pongs are delayed.
pub(super) async fn heartbeat(sender: SignalingSender, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.tick().await;
    let mut nonce = 0;
    loop {
        tick.tick().await;
        nonce += 1;
        if sender
            .send(&ClientMessage::Ping { nonce: Some(nonce) })
            .is_err()
        {
            return;
        }
    }
}
