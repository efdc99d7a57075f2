//! Active speakers end to end: headless participants send the audio-level header extension
//! (RFC 6464) as browsers do, the SFU hears who speaks, and every participant gets
//! `active_speakers`, loudest first, as who speaks changes; a late joiner at once.
//!
//! SQLite only: speech detection lives in the SFU and the room, which the storage backend
//! does not touch.

mod common;

use std::time::Duration;

use common::{Backend, TestServer};
use mm_bench::wire::ParticipantId;
use mm_bench::{JoinOptions, MediaProfile, Participant};

/// A bound for slow CI machines, not a performance assertion.
const WAIT: Duration = Duration::from_secs(30);

async fn wait_speakers(ps: &[&Participant], want: &[ParticipantId], what: &str) {
    for p in ps {
        p.wait_for(what, WAIT, |s| s.active_speakers == want)
            .await
            .unwrap_or_else(|e| panic!("{e}: speakers {:?}", p.state().active_speakers));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_learns_who_speaks_loudest_first() {
    let s = TestServer::start(Backend::Sqlite).await;
    let code;
    let mut ps = Vec::new();
    {
        let (host, _) = s.user("Ada").await;
        code = s.create_meeting(&host, "Speakers").await;
        let mut tokens = vec![host];
        for name in ["Bob", "Cleo"] {
            tokens.push(s.user(name).await.0);
        }
        for t in &tokens {
            let mut o = JoinOptions::new(&s.base, t, &code);
            o.profile = MediaProfile::audio_only();
            ps.push(Participant::join(o).await.expect("joins"));
        }
    }
    let ids: Vec<ParticipantId> = ps.iter().map(|p| p.participant_id().unwrap()).collect();
    let all: Vec<&Participant> = ps.iter().collect();
    let (ada, bob) = (ids[0], ids[1]);

    // Silence (the default level, 127) is nobody speaking.
    assert!(all.iter().all(|p| p.state().active_speakers.is_empty()));

    ps[0].set_audio_level(20);
    wait_speakers(&all, &[ada], "Ada speaks").await;

    ps[0].set_audio_level(127);
    ps[1].set_audio_level(30);
    wait_speakers(&all, &[bob], "Bob speaks, Ada stopped").await;

    // Both: the louder first (a lower -dBov is louder).
    ps[0].set_audio_level(5);
    ps[1].set_audio_level(45);
    wait_speakers(&all, &[ada, bob], "both, Ada louder").await;

    // A late joiner learns at once who speaks, not at the next change.
    let mut o = JoinOptions::new(&s.base, &s.user("Dan").await.0, &code);
    o.publish = false;
    let dan = Participant::join(o).await.expect("Dan joins");
    wait_speakers(&[&dan], &[ada, bob], "Dan told who speaks").await;

    for p in &ps[..2] {
        p.set_audio_level(127);
    }
    wait_speakers(&all, &[], "nobody").await;
    // Nobody got an error along the way.
    assert!(all.iter().all(|p| p.state().errors.is_empty()));

    dan.close().await;
    for p in ps {
        p.close().await;
    }
    s.stop().await;
}
