//! Typed row ids, so a meeting id can never be passed where a user id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            Serialize, Deserialize, sqlx::Type, ToSchema,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// Id of a row in `users`.
    UserId
);
id_type!(
    /// Id of a row in `meetings`.
    MeetingId
);
id_type!(
    /// A room's claim on its meeting (`meetings.owner_epoch`): every room started for the
    /// meeting takes the next one, and only the latest may write the meeting's room state.
    OwnerEpoch
);
id_type!(
    /// Id of a row in `participants`: one stay of one user in one meeting.
    ParticipationId
);
id_type!(
    /// Id of a row in `refresh_sessions`.
    RefreshSessionId
);
