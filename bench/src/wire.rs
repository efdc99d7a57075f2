//! The signaling wire messages: the server's own protocol types (`signaling/src/protocol.rs`),
//! so the headless participant can never drift from what the server speaks.

pub use mm_signaling::protocol::*;
