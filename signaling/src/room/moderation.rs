//! Hosts in control: what the host and its co-hosts may do to others (mute, ask to unmute,
//! remove, lock, appoint co-hosts, lower hands) and the raised hands and reactions of everyone.
//!
//! Every action is checked here, in the room that owns the state, so a client that skips the
//! UI gains nothing: a participant without host rights gets `not_host` and nothing changes.
//! A mute is enforced by the SFU (the track is blocked where its packets arrive), not left to
//! the muted client; it lasts until the participant itself turns the source on again.
//! Each action that changes something is recorded in the meeting's history.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use mm_sfu::PeerId;
use tracing::{debug, info};

use super::{MeetingWrite, Participant, Room};
use crate::outbox::Outbound;
use crate::protocol::{
    ClientMessage, ErrorCode, LeaveReason, LobbyId, MeetingInfo, ParticipantId, REACTIONS,
    ServerMessage, TrackSource,
};

/// Reactions one participant may send at most this often; faster ones are refused.
const REACTION_INTERVAL: Duration = Duration::from_millis(250);

/// A request that needs host rights (`end_meeting` aside).
#[derive(Debug)]
pub enum HostAction {
    Mute {
        target: ParticipantId,
        source: TrackSource,
    },
    AskToUnmute {
        target: ParticipantId,
        source: TrackSource,
    },
    Remove {
        target: ParticipantId,
        ban: bool,
    },
    Lock(bool),
    SetLobby(bool),
    Admit(LobbyId),
    Deny(LobbyId),
    AdmitAll,
    AllowGuests(bool),
    SetCohost {
        target: ParticipantId,
        cohost: bool,
    },
    LowerHand {
        target: ParticipantId,
    },
}

impl HostAction {
    /// The host action a client message asks for (`None`: not one).
    pub fn from_message(m: ClientMessage) -> Option<HostAction> {
        Some(match m {
            ClientMessage::MuteParticipant {
                participant_id: target,
                source,
            } => HostAction::Mute { target, source },
            ClientMessage::AskToUnmute {
                participant_id: target,
                source,
            } => HostAction::AskToUnmute { target, source },
            ClientMessage::RemoveParticipant {
                participant_id: target,
                ban,
            } => HostAction::Remove {
                target,
                ban: ban.unwrap_or(false),
            },
            ClientMessage::LockMeeting { locked } => HostAction::Lock(locked),
            ClientMessage::SetLobby { enabled } => HostAction::SetLobby(enabled),
            ClientMessage::Admit { lobby_id } => HostAction::Admit(lobby_id),
            ClientMessage::Deny { lobby_id } => HostAction::Deny(lobby_id),
            ClientMessage::AdmitAll => HostAction::AdmitAll,
            ClientMessage::AllowGuests { allowed } => HostAction::AllowGuests(allowed),
            ClientMessage::SetCohost {
                participant_id: target,
                cohost,
            } => HostAction::SetCohost { target, cohost },
            ClientMessage::LowerHand {
                participant_id: target,
            } => HostAction::LowerHand { target },
            _ => return None,
        })
    }
}

/// The room's moderation state, kept for the room's life (a participant who leaves and comes
/// back is still a co-host, or still kept out).
#[derive(Default)]
pub(super) struct Moderation {
    pub locked: bool,
    /// Newcomers wait in the lobby (persisted with the meeting).
    pub lobby: bool,
    /// Guests may join (persisted with the meeting).
    pub allow_guests: bool,
    /// Users the host gave host rights.
    pub cohosts: HashSet<i64>,
    /// Users a host removed and kept out.
    pub banned: HashSet<i64>,
    /// The next raised hand's place.
    next_hand: u32,
}

impl Moderation {
    pub fn new(lobby: bool, allow_guests: bool) -> Self {
        Moderation {
            lobby,
            allow_guests,
            ..Moderation::default()
        }
    }
}

/// What a participant holds of moderation: what a host turned off, and its hand.
#[derive(Default)]
pub(super) struct ParticipantModeration {
    /// Sources a host turned off that the participant has not turned on again.
    pub silenced: Vec<TrackSource>,
    /// Tracks the SFU blocks for this participant now.
    pub blocked: Vec<String>,
    pub raised_hand: Option<u32>,
    last_reaction: Option<Instant>,
}

type Refusal = (ErrorCode, &'static str);

const NOBODY_WAITING: Refusal = (
    ErrorCode::UnknownParticipant,
    "nobody with this lobby id is waiting",
);

impl Room {
    fn is_host_user(&self, user_id: i64) -> bool {
        user_id == self.meeting.host_user_id
    }

    /// The host, or a co-host.
    pub(super) fn has_host_rights(&self, user_id: i64) -> bool {
        self.is_host_user(user_id) || self.moderation.cohosts.contains(&user_id)
    }

    /// The meeting as clients see it.
    pub(super) fn meeting_info(&self) -> MeetingInfo {
        MeetingInfo {
            code: self.meeting.code.clone(),
            title: self.meeting.title.clone(),
            host_user_id: self.meeting.host_user_id,
            locked: self.moderation.locked,
            lobby: self.moderation.lobby,
            allow_guests: self.moderation.allow_guests,
        }
    }

    /// Handles a host action by `actor`; a refusal is sent back to it.
    pub(super) async fn host_action(&mut self, actor: ParticipantId, action: HostAction) {
        if let Err((code, message)) = self.try_host_action(actor, action).await {
            self.send_error(actor, code, message);
        }
    }

    async fn try_host_action(
        &mut self,
        actor: ParticipantId,
        action: HostAction,
    ) -> Result<(), Refusal> {
        let actor_user = self.participants[&actor].user.user_id;
        if !self.has_host_rights(actor_user) {
            return Err((ErrorCode::NotHost, "only a host or co-host can do this"));
        }
        match action {
            HostAction::Lock(locked) => {
                if self.moderation.locked != locked {
                    self.moderation.locked = locked;
                    info!(by = %actor, locked, "meeting lock changed");
                    let meeting = self.meeting_info();
                    self.broadcast(ServerMessage::MeetingUpdated { meeting });
                    let what = if locked { "lock" } else { "unlock" };
                    self.record(actor, None, what).await;
                }
            }
            HostAction::SetLobby(enabled) => {
                if self.moderation.lobby != enabled {
                    self.moderation.lobby = enabled;
                    info!(by = %actor, enabled, "lobby changed");
                    self.persist(MeetingWrite::Lobby(enabled)).await;
                    let meeting = self.meeting_info();
                    self.broadcast(ServerMessage::MeetingUpdated { meeting });
                    let what = if enabled { "lobby_on" } else { "lobby_off" };
                    self.record(actor, None, what).await;
                    if !enabled {
                        // Nobody waits for a lobby that is gone.
                        self.admit_everyone().await;
                    }
                }
            }
            HostAction::AllowGuests(allowed) => {
                if self.moderation.allow_guests != allowed {
                    self.moderation.allow_guests = allowed;
                    self.persist(MeetingWrite::AllowGuests(allowed)).await;
                    let meeting = self.meeting_info();
                    self.broadcast(ServerMessage::MeetingUpdated { meeting });
                    let what = if allowed { "guests_on" } else { "guests_off" };
                    self.record(actor, None, what).await;
                }
            }
            HostAction::Admit(id) => {
                if !self.admit_waiter(id).await {
                    return Err(NOBODY_WAITING);
                }
                self.record(actor, None, "admit").await;
            }
            HostAction::Deny(id) => {
                let message = "a host did not let you in";
                if !self.dismiss_waiter(id, ErrorCode::LobbyDenied, message) {
                    return Err(NOBODY_WAITING);
                }
                self.record(actor, None, "deny").await;
            }
            HostAction::AdmitAll => {
                if self.admit_everyone().await > 0 {
                    self.record(actor, None, "admit_all").await;
                }
            }
            HostAction::SetCohost { target, cohost } => {
                if !self.is_host_user(actor_user) {
                    return Err((ErrorCode::NotHost, "only the host can appoint co-hosts"));
                }
                let user = self.target(actor, target)?.user.user_id;
                if self.is_host_user(user) {
                    return Err((ErrorCode::BadMessage, "the host has host rights already"));
                }
                let changed = if cohost {
                    self.moderation.cohosts.insert(user)
                } else {
                    self.moderation.cohosts.remove(&user)
                };
                if changed {
                    self.announce(target);
                    if cohost {
                        self.tell_lobby_to(target);
                    } else {
                        self.hide_lobby_from(target);
                    }
                    let what = if cohost {
                        "cohost_granted"
                    } else {
                        "cohost_revoked"
                    };
                    self.record(actor, Some(target), what).await;
                }
            }
            HostAction::Mute { target, source } => {
                self.target(actor, target)?;
                self.silence(target, source, actor).await;
                self.record(actor, Some(target), mute_action(source)).await;
            }
            HostAction::AskToUnmute { target, source } => {
                if source == TrackSource::ScreenShare {
                    return Err((ErrorCode::BadMessage, "only a microphone or camera"));
                }
                self.target(actor, target)?;
                self.send_to(target, ServerMessage::UnmuteRequested { source, by: actor });
            }
            HostAction::Remove { target, ban } => {
                if target == actor {
                    return Err((ErrorCode::BadMessage, "to go, leave the meeting"));
                }
                let user = self.target(actor, target)?.user.user_id;
                if ban {
                    self.moderation.banned.insert(user);
                }
                info!(by = %actor, participant = %target, ban, "participant removed");
                let p = self.participants.get_mut(&target).expect("checked");
                if let Some(s) = p.session.take() {
                    s.send(Outbound::Message(ServerMessage::Removed {
                        by: actor,
                        banned: ban,
                    }));
                    s.close_with(ErrorCode::Removed.close_code(), "removed by a host");
                }
                self.remove(target, LeaveReason::Removed).await;
                let what = if ban { "remove_and_ban" } else { "remove" };
                self.record(actor, Some(target), what).await;
            }
            HostAction::LowerHand { target } => {
                self.target(actor, target)?;
                let p = self.participants.get_mut(&target).expect("checked");
                if p.moderation.raised_hand.take().is_some() {
                    self.announce(target);
                    self.record(actor, Some(target), "lower_hand").await;
                }
            }
        }
        Ok(())
    }

    /// Admits everyone waiting, in order of arrival; how many.
    async fn admit_everyone(&mut self) -> usize {
        let ids: Vec<LobbyId> = (self.lobby.waiting.iter())
            .map(|w| LobbyId(w.session.id))
            .collect();
        for id in &ids {
            self.admit_waiter(*id).await;
        }
        ids.len()
    }

    /// The participant a host action is about: present, and not the host unless the host
    /// itself acts.
    fn target(&self, actor: ParticipantId, target: ParticipantId) -> Result<&Participant, Refusal> {
        let t = self.participants.get(&target).ok_or((
            ErrorCode::UnknownParticipant,
            "no such participant in this meeting",
        ))?;
        let actor_is_host = self.is_host_user(self.participants[&actor].user.user_id);
        if self.is_host_user(t.user.user_id) && !actor_is_host {
            return Err((ErrorCode::NotHost, "nobody can do this to the host"));
        }
        Ok(t)
    }

    /// Turns `source` of `target` off: its media state says so, the SFU drops its tracks, and
    /// the participant is told who did it.
    async fn silence(&mut self, target: ParticipantId, source: TrackSource, by: ParticipantId) {
        let p = self.participants.get_mut(&target).expect("checked");
        if !p.moderation.silenced.contains(&source) {
            p.moderation.silenced.push(source);
        }
        match source {
            TrackSource::Microphone => p.media.audio_muted = true,
            TrackSource::Camera => p.media.video_muted = true,
            TrackSource::ScreenShare => p.media.screen_sharing = false,
        }
        self.enforce_silence(target).await;
        self.send_to(target, ServerMessage::MutedByHost { source, by });
        self.announce(target);
    }

    /// After the participant's own `media_state`: what it turned on again is no longer held.
    pub(super) fn lift_silence(&mut self, id: ParticipantId) {
        let Some(p) = self.participants.get_mut(&id) else {
            return;
        };
        let media = p.media;
        p.moderation.silenced.retain(|s| match s {
            TrackSource::Microphone => media.audio_muted,
            TrackSource::Camera => media.video_muted,
            TrackSource::ScreenShare => !media.screen_sharing,
        });
    }

    /// Makes the SFU block exactly the participant's tracks of a silenced source (after a
    /// mute, an unmute, or new tracks).
    pub(super) async fn enforce_silence(&mut self, id: ParticipantId) {
        let Some(p) = self.participants.get(&id) else {
            return;
        };
        let want: Vec<String> = (p.tracks.iter())
            .filter(|t| p.moderation.silenced.contains(&t.source))
            .map(|t| t.track_id.clone())
            .collect();
        let changes: Vec<(String, bool)> = (want.iter())
            .filter(|t| !p.moderation.blocked.contains(t))
            .map(|t| (t.clone(), true))
            .chain(
                (p.moderation.blocked.iter())
                    .filter(|t| !want.contains(t))
                    .map(|t| (t.clone(), false)),
            )
            .collect();
        let peer = PeerId(id.0 as u64);
        for (track, blocked) in changes {
            let Ok(track_id) = track.parse::<mm_sfu::TrackId>() else {
                continue;
            };
            if let Err(e) = self.sfu.block_track(peer, track_id, blocked).await {
                // The track went meanwhile; `want` no longer lists it next time.
                debug!(participant = %id, %track, error = %e, "could not (un)block a track");
            }
        }
        if let Some(p) = self.participants.get_mut(&id) {
            p.moderation.blocked = want;
        }
    }

    /// Raises or lowers `id`'s own hand.
    pub(super) fn raise_hand(&mut self, id: ParticipantId, raised: bool) {
        let place = self.moderation.next_hand;
        let p = self.participants.get_mut(&id).expect("present");
        let changed = match (raised, p.moderation.raised_hand) {
            (true, None) => {
                p.moderation.raised_hand = Some(place);
                self.moderation.next_hand += 1;
                true
            }
            (false, Some(_)) => {
                p.moderation.raised_hand = None;
                true
            }
            _ => false,
        };
        if changed {
            self.announce(id);
        }
    }

    /// A reaction from `id`, to everyone.
    pub(super) fn reaction(&mut self, id: ParticipantId, emoji: String) {
        if !REACTIONS.contains(&emoji.as_str()) {
            let message = format!("a reaction is one of {}", REACTIONS.join(" "));
            self.send_error(id, ErrorCode::BadMessage, message);
            return;
        }
        let now = Instant::now();
        let p = self.participants.get_mut(&id).expect("present");
        if p.moderation
            .last_reaction
            .is_some_and(|t| now.duration_since(t) < REACTION_INTERVAL)
        {
            self.send_error(id, ErrorCode::RateLimited, "reactions are coming too fast");
            return;
        }
        p.moderation.last_reaction = Some(now);
        self.broadcast(ServerMessage::Reaction {
            participant_id: id,
            emoji,
        });
    }

    /// Tells everyone `id`'s participant info changed.
    fn announce(&mut self, id: ParticipantId) {
        let info = self.info(&self.participants[&id]);
        self.broadcast(ServerMessage::ParticipantUpdated { participant: info });
    }

    async fn record(&mut self, actor: ParticipantId, target: Option<ParticipantId>, action: &str) {
        (self.persist(MeetingWrite::Action {
            actor,
            target,
            action,
        }))
        .await;
    }
}

fn mute_action(source: TrackSource) -> &'static str {
    match source {
        TrackSource::Microphone => "mute_microphone",
        TrackSource::Camera => "mute_camera",
        TrackSource::ScreenShare => "stop_screen_share",
    }
}
