//! The Usher service: one actix-web app wiring the domain crates to their adapters.
//!
//! The modules form layers, each using only those above it (CI checks that
//! no two import each other, `.ci/check-module-cycles`):
//!
//! - [`settings`], [`secrets`], [`telemetry`]: configuration parsed into
//!   types, the generated secrets, logging.
//! - [`auth`]: bearer-token verification (HS256, JWKS, discovery) and local tokens.
//! - `client` (the caller's address behind trusted proxies) and `rate_limit`
//!   (per-key limits of the public paths).
//! - `schema`: schema-only components (roles, statuses, the model's input rules).
//! - `wire`: JSON shapes that several routes (and the error mapping) return.
//! - `error`: every error as problem+json; every domain error's mapping.
//! - `metrics`, `avatar_flow` (avatar ticket and finalize with photo
//!   verification, spanning three domains), `privacy`: application services.
//! - `state`: `AppState`, what every handler shares.
//! - `caller` (the `Authenticated` and `Superuser` extractors), `extract`
//!   (validated bodies, pages), `middleware` (request ids, spans, headers).
//! - `routes`: the HTTP handlers, one module per resource; `openapi`: the document.
//! - `webhook_sender`: posts webhook attempts (10 s, no redirects, no private addresses);
//!   `webhook_stewards`: who may manage which endpoints now.
//! - [`background`]: the background jobs and their scheduler.
//! - [`startup`]: `Application::build`, the only place naming concrete adapters; [`cli`].
//!
//! Only what the binary and the tests use is public; the rest is
//! `pub(crate)`, so the compiler reports dead code.
#![forbid(unsafe_code)]

pub mod auth;
pub(crate) mod avatar_flow;
pub mod background;
pub(crate) mod caller;
pub mod cli;
pub(crate) mod client;
pub(crate) mod codes;
pub(crate) mod discovery;
pub(crate) mod error;
pub(crate) mod event_types;
pub(crate) mod extract;
pub(crate) mod metrics;
pub(crate) mod middleware;
pub(crate) mod openapi;
pub(crate) mod privacy;
pub(crate) mod rate_limit;
pub(crate) mod routes;
pub(crate) mod schema;
pub(crate) mod secrets;
pub mod settings;
pub mod startup;
pub(crate) mod state;
pub(crate) mod telemetry;
pub(crate) mod webhook_sender;
pub(crate) mod webhook_stewards;
pub(crate) mod wire;

pub use settings::Settings;
pub use startup::Application;
