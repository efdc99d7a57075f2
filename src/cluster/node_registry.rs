//! The live nodes of a cluster: each node keeps an entry in Redis under a short TTL and
//! refreshes it with its load; a node that stops refreshing (killed, partitioned) disappears
//! by itself. An index set lists the ids; entries that expired are pruned from it on reading.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use mm_api::Cache;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

/// How often a node refreshes its entry.
pub const REFRESH_EVERY: Duration = Duration::from_secs(2);
/// How long an entry outlives its last refresh: a dead node is gone from the list after this.
pub const ENTRY_TTL: Duration = Duration::from_secs(6);
const INDEX: &str = "nodes";

/// One node as the cluster sees it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NodeInfo {
    pub id: String,
    /// HTTP base URL for other nodes (forwarded sessions, operators).
    pub url: String,
    /// The media workers' UDP addresses it announces.
    pub media: Vec<String>,
    pub participants: usize,
    pub rooms: usize,
    pub down_tracks: usize,
    /// Draining: takes no new meetings.
    pub draining: bool,
    pub started_at: DateTime<Utc>,
}

/// This node's entry and the view of the others; cheap to clone.
#[derive(Clone)]
pub struct NodeRegistry {
    cache: Cache,
    me: Arc<Mutex<NodeInfo>>,
    draining: Arc<AtomicBool>,
}

fn entry_key(id: &str) -> String {
    format!("node:{id}")
}

impl NodeRegistry {
    pub fn new(cache: Cache, me: NodeInfo) -> Self {
        Self {
            cache,
            me: Arc::new(Mutex::new(me)),
            draining: Arc::default(),
        }
    }

    pub async fn me(&self) -> NodeInfo {
        self.me.lock().await.clone()
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Marks this node draining and tells the cluster at once.
    pub async fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
        self.me.lock().await.draining = true;
        self.publish().await;
    }

    /// Writes this node's entry (and its place in the index).
    pub async fn publish(&self) {
        let me = self.me().await;
        let Ok(json) = serde_json::to_vec(&me) else {
            return;
        };
        let written = async {
            self.cache
                .set_ex(&entry_key(&me.id), &json, ENTRY_TTL)
                .await?;
            self.cache.set_add(INDEX, &me.id).await
        };
        if let Err(e) = written.await {
            tracing::debug!(error = %e, "node entry not refreshed");
        }
    }

    /// Updates the load figures the next refresh publishes.
    pub async fn set_load(&self, participants: usize, rooms: usize, down_tracks: usize) {
        let mut me = self.me.lock().await;
        me.participants = participants;
        me.rooms = rooms;
        me.down_tracks = down_tracks;
    }

    /// Removes this node's entry (clean exit).
    pub async fn withdraw(&self) {
        let id = self.me().await.id;
        let _ = self.cache.del(&entry_key(&id)).await;
        let _ = self.cache.set_remove(INDEX, &id).await;
    }

    /// Every live node, this one included, sorted by id.
    pub async fn nodes(&self) -> mm_api::Result<Vec<NodeInfo>> {
        let mut nodes = Vec::new();
        for id in self.cache.set_members(INDEX).await? {
            match self.cache.get(&entry_key(&id)).await? {
                Some(json) => {
                    if let Ok(node) = serde_json::from_slice::<NodeInfo>(&json) {
                        nodes.push(node);
                    }
                }
                None => self.cache.set_remove(INDEX, &id).await?,
            }
        }
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(nodes)
    }

    /// The node a new meeting should go to: the live, non-draining node with the fewest
    /// participants, this one on a tie; `None` if the list cannot be read or is empty.
    pub async fn least_loaded(&self) -> Option<NodeInfo> {
        let me = self.me().await.id;
        let nodes = self.nodes().await.ok()?;
        pick_least_loaded(&nodes, &me).cloned()
    }

    /// Refreshes the entry every [`REFRESH_EVERY`] until the registry is dropped everywhere.
    pub fn spawn_refresh(&self) {
        let registry = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH_EVERY);
            loop {
                tick.tick().await;
                registry.publish().await;
            }
        });
    }
}

/// Fewest participants first, then this node, then the lowest id: every node picks the same.
fn pick_least_loaded<'a>(nodes: &'a [NodeInfo], me: &str) -> Option<&'a NodeInfo> {
    nodes
        .iter()
        .filter(|n| !n.draining)
        .min_by_key(|n| (n.participants, n.id != me, n.id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, participants: usize, draining: bool) -> NodeInfo {
        NodeInfo {
            id: id.into(),
            url: format!("http://{id}"),
            media: vec![],
            participants,
            rooms: 0,
            down_tracks: 0,
            draining,
            started_at: Utc::now(),
        }
    }

    #[test]
    fn the_least_loaded_live_node_wins_and_ties_stay_home() {
        let nodes = [node("a", 5, false), node("b", 2, false), node("c", 1, true)];
        assert_eq!(pick_least_loaded(&nodes, "a").unwrap().id, "b");
        let tied = [node("a", 2, false), node("b", 2, false)];
        assert_eq!(pick_least_loaded(&tied, "b").unwrap().id, "b");
        assert_eq!(pick_least_loaded(&tied, "z").unwrap().id, "a");
        assert!(pick_least_loaded(&[node("a", 0, true)], "a").is_none());
    }

    #[tokio::test]
    async fn entries_list_and_withdraw() {
        let cache = Cache::memory();
        let a = NodeRegistry::new(cache.clone(), node("a", 0, false));
        let b = NodeRegistry::new(cache.clone(), node("b", 3, false));
        a.publish().await;
        b.publish().await;
        let ids: Vec<_> = a.nodes().await.unwrap().into_iter().map(|n| n.id).collect();
        assert_eq!(ids, ["a", "b"]);
        b.start_draining().await;
        assert!(a.nodes().await.unwrap()[1].draining);
        b.withdraw().await;
        assert_eq!(a.nodes().await.unwrap().len(), 1);
    }
}
