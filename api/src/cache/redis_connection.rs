//! One Redis server or a Redis Cluster behind the same calls. A cluster routes every command by
//! its key's slot (our multi-key scripts keep their keys in one slot with a hash tag).
//!
//! `REDIS_URL` names a cluster by listing seed nodes separated by commas
//! (`redis://10.0.0.1:7000,redis://10.0.0.2:7000`); one URL is one server. Pub/sub needs no
//! routing: a cluster delivers every `PUBLISH` to subscribers on any node, so the bus subscribes
//! on one seed node and moves to the next when that one fails. Publishes go to the first seed
//! node too, so that a subscriber there sees them in the order a single server would (a
//! `PUBLISH` on another node reaches it later, over the cluster bus).

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

/// A connection for commands; cheap to clone (both kinds multiplex one connection per node).
#[derive(Clone)]
pub enum RedisConnection {
    Single(ConnectionManager),
    Cluster {
        commands: ClusterConnection,
        /// The first seed node, for `PUBLISH`.
        bus: ConnectionManager,
    },
}

/// Where the bus subscribes: the server, or every seed node of a cluster in turn.
pub type SubscribeTargets = Vec<redis::Client>;

impl RedisConnection {
    /// Connects to the server or the cluster `url` names, with calls bounded by `timeout`.
    pub async fn open(
        url: &str,
        timeout: Duration,
        single: ConnectionManagerConfig,
    ) -> redis::RedisResult<(Self, SubscribeTargets)> {
        let seeds: Vec<&str> = url
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect();
        if let [one] = seeds.as_slice() {
            let client = redis::Client::open(*one)?;
            let manager = ConnectionManager::new_with_config(client.clone(), single).await?;
            return Ok((Self::Single(manager), vec![client]));
        }
        let clients = seeds
            .iter()
            .map(|u| redis::Client::open(*u))
            .collect::<redis::RedisResult<Vec<_>>>()?;
        let cluster = redis::cluster::ClusterClient::builder(seeds.clone())
            .connection_timeout(timeout)
            .response_timeout(timeout)
            .retries(1)
            .build()?;
        let commands = cluster.get_async_connection().await?;
        let bus = ConnectionManager::new_lazy_with_config(clients[0].clone(), single)?;
        Ok((Self::Cluster { commands, bus }, clients))
    }

    /// Where `PUBLISH` goes.
    pub fn publisher(&self) -> ConnectionManager {
        match self {
            Self::Single(c) | Self::Cluster { bus: c, .. } => c.clone(),
        }
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster { commands, .. } => commands.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster { commands, .. } => commands.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster { commands, .. } => commands.get_db(),
        }
    }
}
