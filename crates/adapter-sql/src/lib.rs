//! Usher's repository ports over sea-orm 2, on PostgreSQL (production) and
//! SQLite (the embedded default).
//!
//! - [`database`]: connecting (pool sizing, SQLite pragmas), migrating, pinging,
//!   pool statistics and telling an unavailable database from other failures.
//! - [`users`]: the `UserRepository` implementation.
//! - [`photos`]: the `PhotoVerificationRepository` implementation (one PENDING per user, compare-and-set).
//! - [`tickets`]: the `UploadTicketRepository` implementation (exact per-owner rate limit).
//! - `entities` and `mapping`: the persistence models and their conversion to
//!   domain records; neither leaves this crate.
#![forbid(unsafe_code)]

pub mod database;
mod entities;
mod mapping;
pub mod photos;
pub mod tickets;
pub mod users;

pub use database::{Database, PoolSettings, PoolStats, is_unavailable};
pub use photos::SqlPhotoVerificationRepository;
pub use tickets::SqlUploadTicketRepository;
pub use users::SqlUserRepository;
