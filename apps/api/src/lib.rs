//! The Usher service: one actix-web app wiring the domain crates to their adapters.
//!
//! - [`settings`]: layered configuration (defaults → `usher.toml` → `USHER_*`).
//! - [`startup`]: `Application::build`, the only place naming concrete adapters.
//! - [`auth`]: bearer-token verification, just-in-time provisioning, local tokens.
//! - [`error`]: every error as problem+json, and the domain-error mapping.
//! - [`middleware`]: request ids, request spans, error rendering.
//! - [`extract`]: the validated JSON body extractor.
//! - [`routes`]: the HTTP handlers, one module per resource.
//! - [`photo_flow`]: avatar ticket and finalize when photo verification is on (spans two domains).
//! - [`background`]: the background jobs (upload and membership sweeps,
//!   the e-mail outbox, imports) and their scheduler.
//! - [`openapi`], [`metrics`], [`telemetry`], [`secrets`], [`cli`].
#![forbid(unsafe_code)]

pub mod auth;
pub mod background;
pub mod cli;
pub mod client;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod photo_flow;
pub mod privacy;
pub mod routes;
pub mod secrets;
pub mod settings;
pub mod startup;
pub mod telemetry;

pub use settings::Settings;
pub use startup::Application;
