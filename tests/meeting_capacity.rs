//! Meeting capacity (`MAX_PARTICIPANTS_PER_MEETING`): the join after the last seat is refused
//! with `meeting_full`, nobody inside notices, and a seat that frees up can be taken. A
//! participant who comes back (resume, or the same user joining again) takes their own seat.
//!
//! SQLite only: the cap lives in the room, which the storage backend does not change.

mod common;

use std::time::Duration;

use common::{Backend, TestServer, Timers};
use mm_bench::wire::ErrorCode;
use mm_bench::{BenchError, JoinOptions, Participant};

/// A bound for slow CI machines, not a performance assertion.
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_join_after_the_last_seat_is_refused_until_one_frees_up() {
    let timers = Timers {
        max_participants: Some(2),
        ..Timers::default()
    };
    let s = TestServer::start_with(Backend::Sqlite, timers).await;
    let (ta, _) = s.user("Ada").await;
    let (tb, _) = s.user("Bob").await;
    let (tc, _) = s.user("Cleo").await;
    let code = s.create_meeting(&ta, "Two seats").await;
    let viewer = |t: &str| {
        let mut o = JoinOptions::new(&s.base, t, &code);
        o.publish = false;
        o
    };
    let a = Participant::join(viewer(&ta)).await.unwrap();
    let b = Participant::join(viewer(&tb)).await.unwrap();

    let refused = Participant::join(viewer(&tc)).await;
    let e = refused.err().expect("a third participant is refused");
    assert!(
        matches!(
            e,
            BenchError::Server {
                code: ErrorCode::MeetingFull,
                ..
            }
        ),
        "{e}"
    );
    // Nobody inside saw anything of it.
    for p in [&a, &b] {
        let st = p.state();
        assert_eq!(st.others.len(), 1, "{:?}", st.others);
        assert!(st.errors.is_empty(), "{:?}", st.errors);
    }

    // Bob leaves: his seat is Cleo's.
    b.leave().await.unwrap();
    a.wait_for("Bob gone", WAIT, |st| st.others.is_empty())
        .await
        .unwrap();
    let c = Participant::join(viewer(&tc))
        .await
        .expect("Cleo takes the free seat");
    a.wait_for("Cleo in", WAIT, |st| st.others.len() == 1)
        .await
        .unwrap();

    a.close().await;
    c.close().await;
    s.stop().await;
}
