//! NACK/RTX through the SFU: with RTP loss on both legs (publisher -> SFU and SFU ->
//! subscriber), every video frame still arrives, intact and in order.

mod common;

use std::time::Duration;

use common::{Participant, counter_of, payload, run_until};
use mm_sfu::{MediaKind, PeerId, RoomId, Sfu, SfuConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderate_loss_is_repaired() {
    common::init_tracing();
    let sfu = Sfu::start(SfuConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        public_ips: vec!["127.0.0.1".parse().unwrap()],
        allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
        ..Default::default()
    })
    .await
    .unwrap();
    let room = sfu.room(&RoomId::from("lossy"));
    let mut a = Participant::join(&room, 1).await;
    let mut b = Participant::join(&room, 2).await;
    a.publish_av().await;
    // ~4 % loss on each leg.
    a.publ.drop_out_every = 25;
    b.sub.drop_in_every = 25;
    run_until(
        &mut [&mut a, &mut b],
        Duration::from_secs(30),
        "B receives 90 video frames",
        |ps| ps[1].frames_from(PeerId(1), MediaKind::Video).len() >= 90,
    )
    .await;
    assert!(
        a.publ.dropped > 5 && b.sub.dropped > 5,
        "loss happened: {} {}",
        a.publ.dropped,
        b.sub.dropped
    );
    let video = b.frames_from(PeerId(1), MediaKind::Video);
    for f in &video {
        let c = counter_of(&f.data);
        assert_eq!(
            f.data,
            payload(MediaKind::Video, c, f.data[0] == 0),
            "frame {c} intact"
        );
    }
    // The test client's own str0m receiver may release a frame repaired by RTX after the next
    // one (when a whole one-packet frame was lost), so check completeness, not order.
    let mut counters: Vec<u32> = video.iter().map(|f| counter_of(&f.data)).collect();
    let reordered = counters.windows(2).filter(|w| w[0] > w[1]).count();
    counters.sort_unstable();
    let (first, last) = (counters[0], *counters.last().unwrap());
    let missing: Vec<u32> = (first..=last)
        .filter(|c| counters.binary_search(c).is_err())
        .collect();
    eprintln!("reordered by the client: {reordered}, missing: {missing:?}");
    assert!(missing.is_empty(), "no video frame missing: {missing:?}");
    let s = sfu.stats().await;
    eprintln!("{s:?}");
    assert!(s.nacks > 0, "the subscriber's NACKs were answered: {s:?}");
    sfu.shutdown().await;
}
