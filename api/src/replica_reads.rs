//! Which database answers a read: the read replica, unless the reader or the meeting was written
//! in the last [`RECENT_WRITE`] (read-your-writes), or the replica fails (then the primary).
//!
//! Only lists go to the replica: a user's meetings, a meeting's participants and host actions.
//! Everything else, and every write, uses the primary. Writes are remembered in the cache
//! (`wrote:user:<id>`, `wrote:meeting:<id>`), so with Redis every node knows what any node wrote.
//! A cache that fails counts as "written": the read goes to the primary.

use std::time::Duration;

use crate::cache::Cache;
use crate::ids::{MeetingId, UserId};
use crate::store::Store;

/// Longer than a healthy streaming replica ever lags (milliseconds), short enough that busy
/// users' lists still come from the replica most of the time.
pub const RECENT_WRITE: Duration = Duration::from_secs(5);

/// What a write touched.
#[derive(Clone, Copy, Debug)]
pub enum Written {
    User(UserId),
    Meeting(MeetingId),
}

impl Written {
    fn key(self) -> String {
        match self {
            Self::User(id) => format!("wrote:user:{id}"),
            Self::Meeting(id) => format!("wrote:meeting:{id}"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ReplicaReads {
    primary: Store,
    replica: Option<Store>,
    cache: Cache,
}

impl ReplicaReads {
    pub fn new(store: Store, cache: Cache) -> Self {
        Self {
            replica: store.replica(),
            primary: store,
            cache,
        }
    }

    /// Remembers a write, so reads of it go to the primary for a while. Nothing to do without a
    /// replica.
    pub async fn wrote(&self, what: &[Written]) {
        if self.replica.is_none() {
            return;
        }
        for w in what {
            if let Err(e) = self.cache.set_ex(&w.key(), b"1", RECENT_WRITE).await {
                tracing::debug!(error = %e, "write not remembered; reads fall back to the primary");
            }
        }
    }

    /// The replica if none of `about` was written lately, else the primary.
    pub async fn store_for(&self, about: &[Written]) -> &Store {
        let Some(replica) = &self.replica else {
            return &self.primary;
        };
        for w in about {
            if self.cache.exists(&w.key()).await.unwrap_or(true) {
                return &self.primary;
            }
        }
        replica
    }

    /// Runs `read` on the store [`Self::store_for`] picks; a replica that fails is asked no more
    /// for this read, the primary answers.
    pub async fn read<T, F, Fut>(&self, about: &[Written], read: F) -> crate::Result<T>
    where
        F: Fn(Store) -> Fut,
        Fut: std::future::Future<Output = crate::Result<T>>,
    {
        let store = self.store_for(about).await;
        let from_replica = !std::ptr::eq(store, &self.primary);
        match read(store.clone()).await {
            Err(e) if from_replica => {
                tracing::warn!(error = %e, "read replica failed; reading the primary");
                read(self.primary.clone()).await
            }
            result => result,
        }
    }
}
