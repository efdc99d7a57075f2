//! Protocol types of hosts in control: the lobby, and the reactions anyone may send.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Someone waiting in a meeting's lobby (not a participant yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export, type = "number")]
pub struct LobbyId(pub u64);

/// One person in the lobby, as hosts see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LobbyEntry {
    pub lobby_id: LobbyId,
    #[ts(type = "number")]
    pub user_id: i64,
    pub name: String,
    /// Came by the guest link, without an account.
    pub is_guest: bool,
}

/// The reactions a client may send.
pub const REACTIONS: [&str; 8] = ["👍", "👏", "😂", "😮", "❤️", "🎉", "🤔", "👎"];
