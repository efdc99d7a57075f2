//! A room's network input and timers: datagrams for its connections, `Rtc` timeouts and
//! deferred keyframe requests.

use str0m::Input;
use str0m::net::Receive;

use super::{Failure, Room, RoomCtx, run_on};
use crate::demux::Route;

impl Room {
    /// One datagram routed to a connection of this room. A STUN request routed by its ufrag
    /// is first checked by that connection's `Rtc` (`Rtc::accepts`: our ufrag, the remote
    /// ufrag once known, MESSAGE-INTEGRITY under our ICE password); only a request that passes
    /// gets its source address recorded. Returns false when the datagram was dropped.
    pub fn handle_datagram(
        &mut self,
        route: Route,
        recv: Receive<'_>,
        ctx: &mut RoomCtx<'_>,
    ) -> bool {
        let key = route.key();
        let (peer, pc) = (key.peer, key.pc);
        let Some(p) = self.peers.get_mut(&peer) else {
            return false;
        };
        let now = ctx.now;
        let input = Input::Receive(now, recv);
        let conn = p.conn_mut(pc);
        if let Route::Stun(_) = route {
            let Input::Receive(_, r) = &input else {
                return false;
            };
            let source = r.source;
            if !matches!(conn.call(|rtc| rtc.accepts(&input)), Ok(true)) {
                ctx.stats.stun_rejected += 1;
                return false;
            }
            ctx.demux.learn(source, key);
        }
        let r = run_on(
            conn,
            peer,
            ctx,
            &mut self.effects,
            &mut self.failed,
            |rtc| {
                let r = rtc.handle_input(input);
                (r, rtc.is_alive())
            },
        );
        if let Some((Err(e), alive)) = r {
            if alive {
                tracing::debug!(%peer, %pc, "input refused: {e}");
            } else {
                self.failed.push(Failure {
                    peer,
                    pc,
                    reason: e.to_string(),
                });
            }
        }
        self.settle(ctx);
        true
    }

    /// Drives every due timer: `Rtc` timeouts and deferred keyframe requests. Also reports
    /// every pending deadline to `ctx.earliest`.
    pub fn handle_timeout(&mut self, ctx: &mut RoomCtx<'_>) {
        let now = ctx.now;
        for (id, p) in self.peers.iter_mut() {
            for conn in [&mut p.publish, &mut p.subscribe] {
                if conn.timeout <= now {
                    run_on(conn, *id, ctx, &mut self.effects, &mut self.failed, |rtc| {
                        rtc.handle_input(Input::Timeout(now))
                    });
                } else {
                    ctx.note(conn.timeout);
                }
            }
        }
        let mut due = Vec::new();
        for (track, up) in self.up_tracks.iter_mut() {
            for (i, l) in up.layers.iter_mut().enumerate() {
                if l.throttle.poll(now) {
                    due.push((*track, i));
                } else if let Some(d) = l.throttle.deadline() {
                    ctx.note(d);
                }
            }
        }
        for (track, layer) in due {
            self.send_keyframe_request(track, layer, ctx);
        }
        self.dynacast(ctx);
        self.settle(ctx);
    }
}
