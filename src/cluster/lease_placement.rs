//! Meeting ownership by lease: the first node to claim a meeting that nobody owns becomes its
//! owner (or sends it to the least-loaded node), renews the lease while the room lives and
//! releases it when the room ends. A lease's holder names the node and its URL, so a session
//! can be forwarded to the owner without another lookup.

use std::time::Duration;

use async_trait::async_trait;
use mm_api::Cache;
use mm_api::cache::{Lease, LeaseClaim, Renewal};
use mm_signaling::{Claim, Kept, Ownership, Placement, PlacementError, RemoteNode};

use super::NodeRegistry;

pub struct LeasePlacement {
    cache: Cache,
    registry: NodeRegistry,
    me: RemoteNode,
    ttl: Duration,
}

/// The lease that names a live meeting's owner.
pub(crate) fn lease_name(code: &str) -> String {
    format!("meeting:{code}")
}

/// `"<id> <url>"`: node ids have no spaces.
fn holder_of(node: &RemoteNode) -> String {
    format!("{} {}", node.id, node.url)
}

fn parse_holder(holder: &str) -> RemoteNode {
    let (id, url) = holder.split_once(' ').unwrap_or((holder, ""));
    RemoteNode {
        id: id.to_owned(),
        url: url.to_owned(),
    }
}

fn unavailable(e: mm_api::Error) -> PlacementError {
    PlacementError::Unavailable(e.to_string())
}

impl LeasePlacement {
    pub fn new(cache: Cache, registry: NodeRegistry, me: RemoteNode, ttl: Duration) -> Self {
        Self {
            cache,
            registry,
            me,
            ttl,
        }
    }

    fn answer(&self, holder: &str, fence: u64, code: &str) -> Claim {
        let node = parse_holder(holder);
        if node.id == self.me.id {
            Claim::Owner(Ownership {
                meeting_code: code.to_owned(),
                fence,
            })
        } else {
            Claim::Elsewhere(node)
        }
    }

    fn lease(&self, ownership: &Ownership) -> Lease {
        Lease {
            name: lease_name(&ownership.meeting_code),
            holder: holder_of(&self.me),
            fence: ownership.fence,
        }
    }
}

#[async_trait]
impl Placement for LeasePlacement {
    async fn claim(&self, code: &str, forwarded: bool) -> Result<Claim, PlacementError> {
        let name = lease_name(code);
        if let Some((holder, fence)) = self.cache.lease_holder(&name).await.map_err(unavailable)? {
            let node = parse_holder(&holder);
            if node.url == self.me.url && node.id != self.me.id {
                // A previous run of this node, at this address, still holds it: forwarding
                // would reach ourselves. Its lease expires within MEETING_LEASE_SECS.
                return Err(PlacementError::Unavailable(format!(
                    "the meeting is held by {}, an earlier run of this node, until its lease expires",
                    node.id
                )));
            }
            let owner = self.answer(&holder, fence, code);
            match owner {
                // Draining: the room here is closing; let the meeting go to another node.
                Claim::Owner(ref ours) if self.registry.is_draining() => self.release(ours).await,
                _ => return Ok(owner),
            }
        }
        // Nobody owns it: a draining node, or a node that is not the least loaded, sends the
        // meeting on (a forwarded session was sent here on purpose and stays, unless we drain).
        if (!forwarded || self.registry.is_draining())
            && let Some(target) = self.registry.least_loaded().await
            && target.id != self.me.id
        {
            return Ok(Claim::Elsewhere(RemoteNode {
                id: target.id,
                url: target.url,
            }));
        }
        let claim = self
            .cache
            .acquire_lease(&name, &holder_of(&self.me), self.ttl)
            .await
            .map_err(unavailable)?;
        Ok(match claim {
            LeaseClaim::Granted(lease) => {
                tracing::info!(
                    meeting = code,
                    fence = lease.fence,
                    "this node owns the meeting now"
                );
                Claim::Owner(Ownership {
                    meeting_code: code.to_owned(),
                    fence: lease.fence,
                })
            }
            LeaseClaim::Held { holder, fence } => self.answer(&holder, fence, code),
        })
    }

    async fn renew(&self, ownership: &Ownership) -> Kept {
        match self
            .cache
            .renew_lease(&self.lease(ownership), self.ttl)
            .await
        {
            Ok(Renewal::Kept) => Kept::Yes,
            Ok(Renewal::Lost) => Kept::Lost,
            Err(e) => {
                tracing::warn!(meeting = %ownership.meeting_code, error = %e, "lease not renewed");
                Kept::Unknown
            }
        }
    }

    async fn release(&self, ownership: &Ownership) {
        if let Err(e) = self.cache.release_lease(&self.lease(ownership)).await {
            tracing::warn!(meeting = %ownership.meeting_code, error = %e, "lease not released; it expires");
        }
    }

    fn renew_every(&self) -> Duration {
        self.ttl / 3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::NodeInfo;

    fn node(id: &str) -> RemoteNode {
        RemoteNode {
            id: id.into(),
            url: format!("http://{id}.test:8080"),
        }
    }

    fn placement(cache: &Cache, id: &str, participants: usize) -> LeasePlacement {
        let me = node(id);
        let registry = NodeRegistry::new(
            cache.clone(),
            NodeInfo {
                id: me.id.clone(),
                url: me.url.clone(),
                media: vec![],
                participants,
                rooms: 0,
                down_tracks: 0,
                draining: false,
                started_at: chrono::Utc::now(),
            },
        );
        LeasePlacement::new(cache.clone(), registry, me, Duration::from_secs(60))
    }

    #[tokio::test]
    async fn one_owner_and_the_others_forward_to_it() {
        let cache = Cache::memory();
        let (a, b) = (placement(&cache, "a", 0), placement(&cache, "b", 0));
        let Claim::Owner(owned) = a.claim("m", false).await.unwrap() else {
            panic!("a should own an unowned meeting");
        };
        assert_eq!(
            b.claim("m", false).await.unwrap(),
            Claim::Elsewhere(node("a"))
        );
        assert_eq!(
            b.claim("m", true).await.unwrap(),
            Claim::Elsewhere(node("a"))
        );
        // Claiming again on the owner is the same ownership.
        assert_eq!(
            a.claim("m", false).await.unwrap(),
            Claim::Owner(owned.clone())
        );
        a.release(&owned).await;
        let Claim::Owner(next) = b.claim("m", false).await.unwrap() else {
            panic!("b should own a released meeting");
        };
        assert!(next.fence > owned.fence);
        assert_eq!(a.renew(&owned).await, Kept::Lost);
        assert_eq!(b.renew(&next).await, Kept::Yes);
    }

    #[tokio::test]
    async fn a_lease_of_an_earlier_run_at_this_address_is_waited_out_not_followed() {
        let cache = Cache::memory();
        let earlier = placement(&cache, "a", 0);
        let Claim::Owner(_) = earlier.claim("m", false).await.unwrap() else {
            panic!("the earlier run owns the meeting");
        };
        // Restarted: a new id at the same URL.
        let mut now = placement(&cache, "a", 0);
        now.me.id = "a-restarted".into();
        assert!(matches!(
            now.claim("m", false).await,
            Err(PlacementError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn an_unowned_meeting_goes_to_the_least_loaded_node() {
        let cache = Cache::memory();
        let (busy, idle) = (placement(&cache, "busy", 40), placement(&cache, "idle", 2));
        busy.registry.publish().await;
        idle.registry.publish().await;
        assert_eq!(
            busy.claim("m", false).await.unwrap(),
            Claim::Elsewhere(node("idle"))
        );
        // The session forwarded there makes the idle node the owner.
        assert!(matches!(
            idle.claim("m", true).await.unwrap(),
            Claim::Owner(_)
        ));
        assert_eq!(
            busy.claim("m", false).await.unwrap(),
            Claim::Elsewhere(node("idle"))
        );
        // A draining node sends even a forwarded session on.
        busy.registry.set_load(0, 0, 0).await;
        busy.registry.publish().await;
        idle.registry.start_draining().await;
        assert_eq!(
            idle.claim("other", true).await.unwrap(),
            Claim::Elsewhere(node("busy"))
        );
    }
}
