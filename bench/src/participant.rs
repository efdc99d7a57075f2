//! A headless participant: what the web client does, driven from Rust.
//!
//! It keeps two peer connections, each with one offerer (see `docs/signaling-protocol.md`):
//! *publish* (we offer our microphone and camera) and *subscribe* (the server offers everyone
//! else's tracks; each later offer is a renegotiation). One event-loop task per WebSocket
//! applies server messages to the [`ParticipantSnapshot`] and answers the SDP ones, so the
//! order of negotiation follows the order of messages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::offer_answer_options::RTCOfferOptions;

use crate::api_client::ws_url;
use crate::error::{BenchError, Result};
use crate::loopback::{
    loopback_api, loopback_publish_api, new_peer_connection_via, set_local_and_gather,
};
use crate::media_profile::MediaProfile;
use crate::participant_state::{CloseInfo, ParticipantSnapshot};
use crate::publisher::{Publisher, PublisherStats, SendTracks};
use crate::signaling_connection::{SignalingConnection, SignalingSender};
use crate::track_receiver::TrackReceiver;
use crate::track_stats::TrackStats;
mod inner;

use inner::{Inner, event_loop, heartbeat};

use crate::wire::{
    ClientMessage, IceServer, MediaState, PROTOCOL_VERSION, ParticipantId, TrackDecl, TrackSetting,
    TrackSource,
};

/// How to join.
#[derive(Clone, Debug)]
pub struct JoinOptions {
    /// The server's HTTP address, e.g. `http://127.0.0.1:8080`; signaling is at `/ws`.
    pub base_url: String,
    pub access_token: String,
    pub meeting_code: String,
    pub profile: MediaProfile,
    /// Publish the profile's tracks (false: a pure viewer).
    pub publish: bool,
    /// Initial media state sent with `join`.
    pub media: Option<MediaState>,
    /// Upper bound for each request/response step (welcome, joined, publish answer).
    pub timeout: Duration,
    /// ICE servers for both connections (none: loopback host candidates only), and whether
    /// to use relay candidates only. Applied when the connections are made, before `joined`,
    /// so a test passes what an earlier `joined` of the same user carried.
    pub ice_servers: Vec<IceServer>,
    pub relay_only: bool,
}

impl JoinOptions {
    /// Publishing audio and 360p video, 10 s per step.
    pub fn new(
        base_url: impl Into<String>,
        access_token: impl Into<String>,
        meeting_code: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            access_token: access_token.into(),
            meeting_code: meeting_code.into(),
            profile: MediaProfile::video_360p(),
            publish: true,
            media: None,
            timeout: Duration::from_secs(10),
            ice_servers: Vec::new(),
            relay_only: false,
        }
    }
}

struct Session {
    conn: SignalingConnection,
    event_loop: JoinHandle<()>,
    heartbeat: Option<JoinHandle<()>>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.event_loop.abort();
        if let Some(h) = &self.heartbeat {
            h.abort();
        }
    }
}

/// One headless participant in one meeting.
pub struct Participant {
    inner: Arc<Inner>,
    session: Mutex<Option<Session>>,
    publisher: Mutex<Option<Publisher>>,
}

impl Participant {
    /// Connects, authenticates, joins, and (with `publish`) negotiates the publish connection
    /// and starts sending. Returns once `publish_answer` is applied; media follows.
    pub async fn join(opts: JoinOptions) -> Result<Participant> {
        let api = loopback_api()?;
        let publish_api = if opts.publish {
            loopback_publish_api(opts.profile.simulcast)?
        } else {
            loopback_api()?
        };
        let (servers, relay_only) = (&opts.ice_servers, opts.relay_only);
        let publish_pc = new_peer_connection_via(&publish_api, servers, relay_only).await?;
        let subscribe_pc = new_peer_connection_via(&api, servers, relay_only).await?;
        let tracks = if opts.publish {
            SendTracks::add_to(&publish_pc, &opts.profile, "mm-bench").await?
        } else {
            SendTracks::default()
        };
        let (state, _) = watch::channel(ParticipantSnapshot::default());
        let inner = Arc::new(Inner {
            opts,
            state,
            publish_pc,
            subscribe_pc,
            tracks,
            receivers: Arc::new(Mutex::new(Vec::new())),
        });
        inner.watch_peer_connections();
        inner.handle_remote_tracks(Instant::now());
        let p = Participant {
            inner,
            session: Mutex::new(None),
            publisher: Mutex::new(None),
        };
        p.open_session(None).await?;
        if p.inner.tracks.audio.is_some() || p.inner.tracks.video.is_some() {
            p.negotiate_publish(false).await?;
            let publisher = Publisher::start(&p.inner.tracks, &p.inner.opts.profile);
            *p.publisher.lock().expect("lock") = Some(publisher);
        }
        Ok(p)
    }

    /// A copy of the current state.
    pub fn state(&self) -> ParticipantSnapshot {
        self.inner.state.borrow().clone()
    }

    /// A receiver of state changes, for callers that want to watch themselves.
    pub fn subscribe_state(&self) -> watch::Receiver<ParticipantSnapshot> {
        self.inner.state.subscribe()
    }

    /// Waits until `pred` holds for the state; `what` names it in the timeout error.
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl FnMut(&ParticipantSnapshot) -> bool,
    ) -> Result<ParticipantSnapshot> {
        wait_state(&self.inner.state, what, timeout, pred).await
    }

    pub fn participant_id(&self) -> Option<ParticipantId> {
        self.inner.state.borrow().participant_id
    }

    /// Stats of every received track, grouped by the remote participant that sends it
    /// (tracks whose owner is unknown are left out; see [`all_track_stats`](Self::all_track_stats)).
    pub fn stats(&self) -> HashMap<ParticipantId, Vec<TrackStats>> {
        let mut out: HashMap<ParticipantId, Vec<TrackStats>> = HashMap::new();
        for s in self.all_track_stats() {
            if let Some(id) = s.label.participant_id {
                out.entry(id).or_default().push(s);
            }
        }
        out
    }

    /// Stats of every track received so far, in order of arrival.
    pub fn all_track_stats(&self) -> Vec<TrackStats> {
        self.inner
            .receivers
            .lock()
            .expect("lock")
            .iter()
            .map(TrackReceiver::stats)
            .collect()
    }

    /// Runs `f` over the track receivers (e.g. to read or reset latency histograms).
    pub fn with_receivers<R>(&self, f: impl FnOnce(&[TrackReceiver]) -> R) -> R {
        f(&self.inner.receivers.lock().expect("lock"))
    }

    /// What our publisher has sent (None for viewers).
    pub fn publisher_stats(&self) -> Option<PublisherStats> {
        self.publisher
            .lock()
            .expect("lock")
            .as_ref()
            .map(Publisher::stats)
    }

    /// The two peer connections (publish, subscribe), e.g. for `get_stats`.
    pub fn peer_connections(&self) -> (Arc<RTCPeerConnection>, Arc<RTCPeerConnection>) {
        (
            self.inner.publish_pc.clone(),
            self.inner.subscribe_pc.clone(),
        )
    }

    /// Sends any client message as is (for protocol tests).
    /// The type of the local candidate each connection (publish, subscribe) uses now
    /// (`host`, `relay`, ...), once ICE selected a pair.
    pub async fn selected_candidate_types(&self) -> (Option<String>, Option<String>) {
        let mut types = [None, None];
        for (i, pc) in [&self.inner.publish_pc, &self.inner.subscribe_pc]
            .iter()
            .enumerate()
        {
            let ice = pc.sctp().transport();
            let pair = ice.ice_transport().get_selected_candidate_pair().await;
            types[i] = pair.map(|p| p.local.typ.to_string());
        }
        let [publish, subscribe] = types;
        (publish, subscribe)
    }

    pub fn send(&self, msg: &ClientMessage) -> Result<()> {
        self.sender()?.send(msg)
    }

    pub fn chat(&self, text: &str) -> Result<()> {
        self.send(&ClientMessage::Chat {
            text: text.to_owned(),
        })
    }

    /// Says what this participant shows of remote tracks (`track_settings`).
    pub fn track_settings(&self, tracks: Vec<TrackSetting>) -> Result<()> {
        self.send(&ClientMessage::TrackSettings { tracks })
    }

    /// The microphone's loudness from now on, as the audio-level extension says it (-dBov:
    /// 0 loudest, 127 silence, the default).
    pub fn set_audio_level(&self, dbov: u8) {
        if let Some(p) = self.publisher.lock().expect("lock").as_ref() {
            p.set_audio_level(dbov);
        }
    }

    /// Announces the media state and mutes the publisher accordingly.
    pub fn set_media_state(&self, media: MediaState) -> Result<()> {
        if let Some(p) = self.publisher.lock().expect("lock").as_ref() {
            p.set_muted(media.audio_muted, media.video_muted);
        }
        self.send(&ClientMessage::MediaState(media))
    }

    /// Host only: ends the meeting for everyone. Wait for `meeting_ended` with
    /// [`wait_for`](Self::wait_for) if needed.
    pub fn end_meeting(&self) -> Result<()> {
        self.send(&ClientMessage::EndMeeting)
    }

    /// Sends `leave`, waits (up to the step timeout) for the server to close the socket, then
    /// stops media and closes both peer connections.
    pub async fn leave(&self) -> Result<ParticipantSnapshot> {
        self.send(&ClientMessage::Leave)?;
        let result = self
            .wait_for(
                "the server to close after leave",
                self.inner.opts.timeout,
                |s| !s.connected,
            )
            .await;
        self.close().await;
        result
    }

    /// Sends `leave` and closes the WebSocket at once without waiting for the server, as the
    /// web client does when the user leaves; then stops media and closes both connections.
    pub async fn leave_and_close(&self) -> Result<()> {
        self.send(&ClientMessage::Leave)?;
        let session = self.session.lock().expect("lock").take();
        if let Some(mut s) = session {
            s.conn.close(1000, "left", self.inner.opts.timeout).await;
        }
        self.inner.state.send_modify(|s| {
            s.connected = false;
            s.close = Some(CloseInfo {
                code: Some(1000),
                reason: "closed by client".into(),
                by_server: false,
            });
        });
        self.close().await;
        Ok(())
    }

    /// Kills the WebSocket without a close frame (no `leave`): the server should keep us as
    /// `reconnecting` for its grace period. Media keeps flowing.
    pub fn drop_connection(&self) {
        let session = self.session.lock().expect("lock").take();
        drop(session);
        self.inner.state.send_modify(|s| {
            s.connected = false;
            s.close = Some(CloseInfo {
                code: None,
                reason: "dropped by client".into(),
                by_server: false,
            });
        });
    }

    /// Goes silent on signaling without closing anything: stops the heartbeat and stops
    /// reading the WebSocket, whose TCP connection stays open. Media keeps flowing (a browser
    /// keeps sending media while its page's script is stuck). The server's heartbeat should
    /// find the connection dead and treat it as dropped.
    pub fn go_silent(&self) {
        if let Some(s) = self.session.lock().expect("lock").as_mut() {
            if let Some(h) = s.heartbeat.take() {
                h.abort();
            }
            s.conn.stop_reading();
        }
    }

    /// Reconnects with the resume token of the last `joined`. When the server resumes us, the
    /// publish connection restarts ICE (new offer) and we ask for `restart_subscriber`.
    /// Returns whether the server resumed the same participant.
    pub async fn resume(&self) -> Result<bool> {
        let token = self
            .inner
            .state
            .borrow()
            .resume_token
            .clone()
            .ok_or_else(|| BenchError::Protocol("no resume token: never joined".into()))?;
        drop(self.session.lock().expect("lock").take());
        let snap = self.open_session(Some(token)).await?;
        if snap.resumed {
            if self.inner.tracks.audio.is_some() || self.inner.tracks.video.is_some() {
                self.negotiate_publish(true).await?;
            }
            self.send(&ClientMessage::RestartSubscriber)?;
        }
        Ok(snap.resumed)
    }

    /// Stops media, closes the peer connections and the socket (without `leave`).
    pub async fn close(&self) {
        if let Some(mut p) = self.publisher.lock().expect("lock").take() {
            p.stop();
        }
        drop(self.session.lock().expect("lock").take());
        let _ = self.inner.publish_pc.close().await;
        let _ = self.inner.subscribe_pc.close().await;
    }

    fn sender(&self) -> Result<SignalingSender> {
        self.session
            .lock()
            .expect("lock")
            .as_ref()
            .map(|s| s.conn.sender())
            .ok_or(BenchError::Closed { code: None })
    }

    /// Opens a WebSocket, says hello, joins (resuming with `resume_token`); returns the state
    /// right after `joined`.
    async fn open_session(&self, resume_token: Option<String>) -> Result<ParticipantSnapshot> {
        let opts = &self.inner.opts;
        let (conn, incoming) = SignalingConnection::connect(&ws_url(&opts.base_url)).await?;
        let sender = conn.sender();
        let (welcomes, joins) = {
            let s = self.inner.state.borrow();
            (s.welcomes, s.joins)
        };
        self.inner.state.send_modify(|s| {
            s.connected = true;
            s.sessions += 1;
            s.close = None;
        });
        let event_loop = tokio::spawn(event_loop(
            Arc::downgrade(&self.inner),
            sender.clone(),
            incoming,
        ));
        *self.session.lock().expect("lock") = Some(Session {
            conn,
            event_loop,
            heartbeat: None,
        });

        let snap = self
            .request(
                &ClientMessage::Hello {
                    version: PROTOCOL_VERSION,
                    token: opts.access_token.clone(),
                },
                "welcome",
                move |s| s.welcomes > welcomes,
            )
            .await?;
        let interval = Duration::from_millis(u64::from(
            snap.heartbeat_interval_ms.unwrap_or(5000).max(100),
        ));
        let heartbeat = tokio::spawn(heartbeat(sender, interval));
        if let Some(session) = self.session.lock().expect("lock").as_mut() {
            session.heartbeat = Some(heartbeat);
        }
        self.request(
            &ClientMessage::Join {
                meeting_code: opts.meeting_code.clone(),
                resume_token,
                media: opts.media,
            },
            "joined",
            move |s| s.joins > joins,
        )
        .await
    }

    /// Sends `msg` and waits for `done`; an `error` from the server, a local failure or a
    /// close while waiting fails the request.
    async fn request(
        &self,
        msg: &ClientMessage,
        what: &str,
        mut done: impl FnMut(&ParticipantSnapshot) -> bool,
    ) -> Result<ParticipantSnapshot> {
        let (errors, local_errors) = {
            let s = self.inner.state.borrow();
            (s.errors.len(), s.local_errors.len())
        };
        self.send(msg)?;
        let snap = self
            .wait_for(what, self.inner.opts.timeout, |s| {
                done(s)
                    || s.errors.len() > errors
                    || s.local_errors.len() > local_errors
                    || !s.connected
            })
            .await?;
        if done(&snap) {
            return Ok(snap);
        }
        if let Some(e) = snap.errors.get(errors) {
            return Err(BenchError::Server {
                code: e.code,
                message: e.message.clone(),
            });
        }
        if let Some(e) = snap.local_errors.get(local_errors) {
            return Err(BenchError::Protocol(e.clone()));
        }
        Err(BenchError::Closed {
            code: snap.close.and_then(|c| c.code),
        })
    }

    /// Offers our tracks on the publish connection (an ICE restart with `ice_restart`) and
    /// waits until the server's answer is applied.
    async fn negotiate_publish(&self, ice_restart: bool) -> Result<()> {
        let pc = &self.inner.publish_pc;
        let options = RTCOfferOptions {
            ice_restart,
            ..Default::default()
        };
        let offer = pc.create_offer(Some(options)).await?;
        let sdp = set_local_and_gather(pc, offer, self.inner.opts.timeout).await?;
        let mut decls = vec![];
        for (track, source) in [
            (&self.inner.tracks.audio, TrackSource::Microphone),
            (&self.inner.tracks.video, TrackSource::Camera),
        ] {
            if let Some(t) = track {
                let mid = t.mid().ok_or_else(|| {
                    BenchError::Protocol("transceiver without a mid after offer".into())
                })?;
                decls.push(TrackDecl { mid, source });
            }
        }
        let answers = self.inner.state.borrow().publish_answers;
        self.request(
            &ClientMessage::PublishOffer { sdp, tracks: decls },
            "publish_answer",
            move |s| s.publish_answers > answers,
        )
        .await?;
        Ok(())
    }
}

impl Drop for Participant {
    fn drop(&mut self) {
        // Tasks stop with their handles; the peer connections close when the last Arc goes.
        if let Ok(mut s) = self.session.lock() {
            s.take();
        }
        if let Ok(mut p) = self.publisher.lock() {
            p.take();
        }
    }
}

async fn wait_state(
    state: &watch::Sender<ParticipantSnapshot>,
    what: &str,
    timeout: Duration,
    mut pred: impl FnMut(&ParticipantSnapshot) -> bool,
) -> Result<ParticipantSnapshot> {
    let mut rx = state.subscribe();
    match tokio::time::timeout(timeout, rx.wait_for(|s| pred(s))).await {
        Ok(Ok(snap)) => Ok(snap.clone()),
        Ok(Err(_)) => Err(BenchError::Closed { code: None }),
        Err(_) => Err(BenchError::Timeout(what.to_owned())),
    }
}
