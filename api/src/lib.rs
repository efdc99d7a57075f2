//! `mm-api`: the REST API of Mini Meeting, its storage and its cache/bus.
//!
//! Layers: HTTP handlers ([`http`]) call services ([`AuthService`], [`MeetingService`]), which
//! call the repository ([`Store`]). Modules:
//!
//! - [`http`]: [`AppState`], [`router`], extractors ([`AuthUser`], [`Json`]), middleware, OpenAPI
//! - [`store`]: [`Store`] over SQLite or PostgreSQL, one SQL text for both; migrations in
//!   `migrations/{sqlite,postgres}`
//! - [`cache`]: [`Cache`], in-process or Redis: windows, flags, publish/subscribe
//! - [`auth_service`], [`password_hasher`], [`token_service`], [`refresh_token`],
//!   [`login_throttle`]: accounts, argon2id, JWT access tokens, rotating refresh tokens
//! - [`meeting_service`], [`meeting_code`], [`meeting_event`]: meetings, join codes, bus events
//! - [`replica_reads`]: which lists a PostgreSQL read replica answers (read-your-writes)
//! - [`metrics`]: Prometheus text rendering
//! - [`user`], [`meeting`], [`participant`], [`refresh_session`], [`ids`]: data types
//! - [`validation`], [`api_config`], [`error`]: input rules, settings, the crate's error type

pub mod api_config;
pub mod auth_service;
pub mod cache;
pub mod error;
pub mod host_action;
pub mod http;
pub mod ids;
pub mod login_throttle;
pub mod meeting;
pub mod meeting_code;
pub mod meeting_event;
pub mod meeting_service;
pub mod metrics;
pub mod participant;
pub mod password_hasher;
pub mod refresh_session;
pub mod refresh_token;
pub mod replica_reads;
pub mod store;
pub mod token_service;
pub mod user;
pub mod validation;

pub use api_config::{ApiConfig, Secret, ThrottleConfig};
pub use auth_service::{AuthService, AuthTokens};
pub use cache::{Cache, Subscription, WindowCount};
pub use error::{Error, Result};
pub use host_action::HostAction;
pub use http::{ApiDoc, AppState, AuthUser, ClientIp, Json, router};
pub use ids::{MeetingId, OwnerEpoch, ParticipationId, RefreshSessionId, UserId};
pub use meeting::{Meeting, MeetingStatus};
pub use meeting_event::{MEETING_EVENTS_CHANNEL, MeetingEvent};
pub use meeting_service::{MeetingPage, MeetingService};
pub use metrics::Metrics;
pub use participant::{Participant, Participation};
pub use replica_reads::{ReplicaReads, Written};
pub use store::Store;
pub use token_service::{AccessClaims, TokenService};
pub use user::User;
