//! Joining a run's participants: accounts, meetings and joins on ours, rooms and feeds on Janus.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Context;
use futures_util::StreamExt;
use futures_util::stream;

use super::live::Live;
use super::peer::{Peer, PeerImpl};
use super::{RunConfig, Target, tracks_per_publisher};
use crate::api_client::ApiClient;
use crate::janus::{JanusPeer, JanusSession};
use crate::loopback::api_on_ip;
use crate::media_profile::MediaProfile;
use crate::participant::{JoinOptions, Participant};
use crate::wire::ParticipantId;

/// Unique-per-run e-mail addresses.
fn run_tag() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{t}-{:04x}", rand::random::<u16>())
}

pub(super) async fn join_ours(
    target: &Target,
    cfg: &RunConfig,
    profile: &MediaProfile,
    live: &Arc<Live>,
) -> anyhow::Result<()> {
    let api = ApiClient::new(&target.base_url);
    let per_meeting = cfg.publishers + cfg.subscribers;
    let tag = run_tag();
    live.set_phase("accounts");
    let mut tokens: Vec<(usize, String)> = stream::iter(0..cfg.meetings * per_meeting)
        .map(|i| {
            let api = api.clone();
            let email = format!("bench-{tag}-{i}@example.com");
            async move {
                let s = api
                    .register(&email, "bench-password-123", &format!("bench {i}"))
                    .await?;
                anyhow::Ok((i, s.access_token))
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    tokens.sort();
    live.set_baseline();
    let per_pub = tracks_per_publisher(profile);
    for m in 0..cfg.meetings {
        let toks = &tokens[m * per_meeting..(m + 1) * per_meeting];
        let code = api
            .create_meeting(&toks[0].1, &format!("bench {m}"))
            .await?
            .code;
        live.set_phase("publishers");
        for (j, (_, tok)) in toks[..cfg.publishers].iter().enumerate() {
            let mut o = JoinOptions::new(target.join_url(j), tok, &code);
            o.profile = *profile;
            o.timeout = cfg.timeout;
            let t = Instant::now();
            let p = Participant::join(o).await.context("publisher join")?;
            let join = t.elapsed();
            let id = p.participant_id().map(|ParticipantId(i)| i);
            live.add(Arc::new(Peer {
                imp: PeerImpl::Ours(p),
                expected_tracks: (cfg.publishers - 1) * per_pub,
                publishes: true,
                publisher_key: id,
                join: Some(join),
            }));
        }
        live.set_phase("receivers");
        let results = stream::iter(toks[cfg.publishers..].iter().enumerate())
            .map(|(j, (_, tok))| {
                let mut o = JoinOptions::new(target.join_url(cfg.publishers + j), tok, &code);
                o.profile = MediaProfile::none();
                o.publish = false;
                o.timeout = cfg.timeout;
                let live = live.clone();
                async move {
                    live.joining.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    let r = Participant::join(o).await;
                    live.joining.fetch_sub(1, Ordering::Relaxed);
                    match r {
                        Ok(p) => {
                            live.add(Arc::new(Peer {
                                imp: PeerImpl::Ours(p),
                                expected_tracks: cfg.publishers * per_pub,
                                publishes: false,
                                publisher_key: None,
                                join: Some(t.elapsed()),
                            }));
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
            })
            .buffer_unordered(cfg.join_concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        let errors: Vec<_> = results.into_iter().filter_map(Result::err).collect();
        if let Some(e) = errors.first() {
            eprintln!("{} receiver joins failed; first: {e}", errors.len());
        }
    }
    Ok(())
}

pub(super) async fn join_janus(
    target: &Target,
    cfg: &RunConfig,
    profile: &MediaProfile,
    live: &Arc<Live>,
    s: &JanusSession,
) -> anyhow::Result<()> {
    let api = api_on_ip(target.client_ip)?;
    let per_pub = tracks_per_publisher(profile);
    let bitrate = profile.video.map_or(64_000, |v| v.bitrate_bps * 2);
    for _ in 0..cfg.meetings {
        let room = s.create_room(cfg.publishers, bitrate).await?;
        live.set_phase("publishers");
        let mut pubs = vec![];
        for _ in 0..cfg.publishers {
            let t = Instant::now();
            let mut p = JanusPeer::new(t);
            p.publish(s, &api, room, profile)
                .await
                .context("janus publish")?;
            pubs.push((p, t.elapsed()));
        }
        let feeds: Vec<u64> = pubs.iter().filter_map(|(p, _)| p.feed_id).collect();
        for (mut p, join) in pubs {
            let others: Vec<u64> = feeds
                .iter()
                .copied()
                .filter(|f| Some(*f) != p.feed_id)
                .collect();
            p.subscribe(s, &api, room, &others).await?;
            let key = p.feed_id.map(|f| f as i64);
            live.add(Arc::new(Peer {
                imp: PeerImpl::Janus(p),
                expected_tracks: (cfg.publishers - 1) * per_pub,
                publishes: true,
                publisher_key: key,
                join: Some(join),
            }));
        }
        live.set_phase("receivers");
        let feeds = &feeds;
        let api = &api;
        let results = stream::iter(0..cfg.subscribers)
            .map(|_| {
                let live = live.clone();
                async move {
                    live.joining.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    let mut p = JanusPeer::new(t);
                    let r = p.subscribe(s, api, room, feeds).await;
                    live.joining.fetch_sub(1, Ordering::Relaxed);
                    r?;
                    live.add(Arc::new(Peer {
                        imp: PeerImpl::Janus(p),
                        expected_tracks: feeds.len() * per_pub,
                        publishes: false,
                        publisher_key: None,
                        join: Some(t.elapsed()),
                    }));
                    Ok::<(), crate::BenchError>(())
                }
            })
            .buffer_unordered(cfg.join_concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        let errors: Vec<_> = results.into_iter().filter_map(Result::err).collect();
        if let Some(e) = errors.first() {
            eprintln!("{} janus receiver joins failed; first: {e}", errors.len());
        }
    }
    Ok(())
}
