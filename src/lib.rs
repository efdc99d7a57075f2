//! The Mini Meeting server binary's library: configuration and wiring, so end-to-end tests
//! can start the same server the binary runs.

mod admin_routes;
pub mod cluster;
pub mod config;
mod drain;
pub mod http_server;
mod meeting_directory;
mod paused_meeting_reaper;
mod process_metrics;
pub mod server;
pub mod telemetry;
mod web_app;

pub use config::Config;
pub use server::Server;
