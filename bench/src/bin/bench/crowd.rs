//! [`crowd`]: fills an existing meeting with publishing headless participants and holds them
//! there, so that a browser (a person, or the web e2e) can be in a large meeting on one machine.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use futures_util::stream;
use serde_json::json;

use mm_bench::api_client::ApiClient;
use mm_bench::media_profile::MediaProfile;
use mm_bench::participant::{JoinOptions, Participant};
use mm_bench::wire::{ParticipantId, TrackSetting};

/// What [`crowd`] does.
pub(crate) struct CrowdConfig {
    pub(crate) base_url: String,
    pub(crate) meeting_code: String,
    pub(crate) participants: usize,
    pub(crate) profile: MediaProfile,
    /// 1-based index (join order) of the one participant whose audio is loud.
    pub(crate) speaker: Option<usize>,
    /// None: until stdin closes.
    pub(crate) hold: Option<Duration>,
}

/// A crowd is for trying the product, not for load: this many at most.
const MAX_CROWD: usize = 200;
/// -dBov of the speaker's audio (0 is the loudest; 127 silence, everyone else).
const SPEAKER_DBOV: u8 = 20;

pub(crate) async fn crowd(cfg: CrowdConfig) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=MAX_CROWD).contains(&cfg.participants),
        "--participants must be 1..={MAX_CROWD}"
    );
    if let Some(s) = cfg.speaker {
        anyhow::ensure!(
            (1..=cfg.participants).contains(&s),
            "--speaker must name one of the participants (1..={})",
            cfg.participants
        );
    }
    let api = ApiClient::new(&cfg.base_url);
    let tag = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let tokens: Vec<String> = stream::iter(1..=cfg.participants)
        .map(|i| {
            let api = api.clone();
            async move {
                let email = format!("crowd-{tag}-{i}@example.com");
                let s = api
                    .register(&email, "crowd-password-123", &format!("Crowd {i:02}"))
                    .await
                    .with_context(|| format!("registering crowd member {i}"))?;
                anyhow::Ok(s.access_token)
            }
        })
        .buffered(4)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    // One by one, in order, so that "joined first" means what the index says.
    let mut members = Vec::with_capacity(tokens.len());
    let mut shown: Vec<BTreeSet<String>> = vec![BTreeSet::new(); tokens.len()];
    for (i, token) in tokens.iter().enumerate() {
        // Turned off as they come, or the joins compete with N² streams nobody wants.
        receive_nothing(&members, &mut shown);
        let mut o = JoinOptions::new(&cfg.base_url, token, &cfg.meeting_code);
        o.profile = cfg.profile;
        let p = Participant::join(o)
            .await
            .with_context(|| format!("crowd member {} joining", i + 1))?;
        if cfg.speaker == Some(i + 1) {
            p.set_audio_level(SPEAKER_DBOV);
        }
        members.push(p);
    }
    let ids: Vec<Option<i64>> = members
        .iter()
        .map(|p| p.participant_id().map(|ParticipantId(id)| id))
        .collect();
    let speaker = cfg.speaker.and_then(|s| ids[s - 1]);
    println!(
        "{}",
        json!({ "ready": { "participants": ids, "speaker": speaker } })
    );

    let (commands, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if commands.send(line).is_err() {
                break;
            }
        }
    });
    let hold = async {
        match cfg.hold {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(hold);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut stdin_open = true;
    loop {
        tokio::select! {
            _ = &mut hold => break,
            _ = tokio::signal::ctrl_c() => break,
            line = lines.recv(), if stdin_open => match line {
                Some(line) => match command(&line, members.len()) {
                    Ok(speaker) => {
                        for (i, p) in members.iter().enumerate() {
                            p.set_audio_level(if speaker == Some(i + 1) { SPEAKER_DBOV } else { 127 });
                        }
                        println!("{}", json!({ "speaker": speaker.and_then(|s| ids[s - 1]) }));
                    }
                    Err(e) => eprintln!("crowd: {e}"),
                },
                // stdin closed: that ends the crowd unless --seconds holds it.
                None if cfg.hold.is_none() => break,
                None => stdin_open = false,
            },
            _ = tick.tick() => receive_nothing(&members, &mut shown),
        }
    }
    for p in &members {
        let _ = p.leave_and_close().await;
    }
    Ok(())
}

/// A line on stdin: `speak N` (member N, 1-based, is the one loud speaker) or `quiet`.
fn command(line: &str, members: usize) -> anyhow::Result<Option<usize>> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["quiet"] => Ok(None),
        ["speak", n] => {
            let n: usize = n.parse().context("speak N: N is a number")?;
            anyhow::ensure!((1..=members).contains(&n), "speak N: N is 1..={members}");
            Ok(Some(n))
        }
        _ => anyhow::bail!("unknown command {line:?} (speak N, quiet)"),
    }
}

/// Headless members neither show nor play anything: they turn every remote track off (again
/// whenever the set of remote tracks changes), so the server's and this process's work is the
/// crowd's publishing and what the browsers in the meeting receive, not N² receive streams.
fn receive_nothing(members: &[Participant], sent: &mut [BTreeSet<String>]) {
    for (p, sent) in members.iter().zip(sent.iter_mut()) {
        let tracks: BTreeSet<String> = p
            .state()
            .remote_tracks
            .iter()
            .map(|t| t.track_id.clone())
            .collect();
        if tracks != *sent {
            let settings = tracks
                .iter()
                .map(|id| TrackSetting {
                    track_id: id.clone(),
                    enabled: false,
                    max_width: None,
                    max_height: None,
                    priority: None,
                })
                .collect();
            if p.track_settings(settings).is_ok() {
                *sent = tracks;
            }
        }
    }
}
