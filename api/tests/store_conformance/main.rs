//! The same repository tests against SQLite (always) and PostgreSQL (`TEST_DATABASE_URL`).

#[path = "../common/mod.rs"]
mod common;
mod meeting_owner;
mod meetings;
mod participations;
mod refresh_sessions;
mod users;

use mm_api::meeting::MeetingOptions;
use mm_api::store::now;
use mm_api::{Meeting, Store, User};

use common::TestDb;
use meeting_owner::a_later_claim_fences_the_earlier_rooms_writes;
use meetings::{
    a_meeting_keeps_its_lobby_setting, ending_is_idempotent, meeting_codes_are_unique,
    meeting_lifecycle_transitions, meetings_for_user_lists_hosted_and_joined_newest_first,
    startup_pauses_active_meetings,
};
use participations::{
    a_moved_participation_is_closed_only_by_its_node, closing_participations,
    one_open_participation_per_user_and_meeting,
};
use refresh_sessions::{
    expired_refresh_sessions_are_purged, refresh_family_revocation, refresh_rotation_is_single_use,
};
use users::{email_is_unique_case_insensitively, users_round_trip};

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(&db.store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$name(&db.store).await;
                }
            )*
        }
    };
}

conformance!(
    users_round_trip,
    email_is_unique_case_insensitively,
    meeting_codes_are_unique,
    a_meeting_keeps_its_lobby_setting,
    a_later_claim_fences_the_earlier_rooms_writes,
    meeting_lifecycle_transitions,
    ending_is_idempotent,
    meetings_for_user_lists_hosted_and_joined_newest_first,
    one_open_participation_per_user_and_meeting,
    closing_participations,
    a_moved_participation_is_closed_only_by_its_node,
    refresh_rotation_is_single_use,
    refresh_family_revocation,
    expired_refresh_sessions_are_purged,
    startup_pauses_active_meetings,
    ping_answers,
);

/// A new meeting hosted by `host`, with the default options.
async fn meeting(store: &Store, host: &User, code: &str, title: &str) -> Meeting {
    store
        .create_meeting(code, title, host.id, MeetingOptions::default(), now())
        .await
        .unwrap()
        .unwrap()
}

async fn user(store: &Store, name: &str) -> User {
    store
        .create_user(&common::email(), "hash", name, now())
        .await
        .unwrap()
}

async fn ping_answers(store: &Store) {
    store.ping().await.unwrap();
    // Migrations are idempotent: running them again is harmless.
    store.migrate().await.unwrap();
}
