//! The HTTP edge: state, router, middleware, extractors and handlers.

mod app_state;
mod auth_routes;
mod auth_user;
mod client_ip;
mod extract;
mod health_routes;
mod meeting_routes;
mod middleware;
mod openapi;
mod router;
mod user_routes;

pub use app_state::AppState;
pub use auth_user::AuthUser;
pub use client_ip::ClientIp;
pub use extract::{Json, Path, Query};
pub use openapi::ApiDoc;
pub use router::router;
