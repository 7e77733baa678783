//! Usher's repository ports over sea-orm 2, on PostgreSQL (production) and
//! SQLite (the embedded default).
//!
//! - [`database`]: connecting (pool sizing, SQLite pragmas), migrating, pinging,
//!   pool statistics and telling an unavailable database from other failures.
//! - [`users`]: the `UserRepository` implementation.
//! - [`photos`]: the `PhotoVerificationRepository` implementation (one PENDING per user, compare-and-set).
//! - [`profiles`]: the `ProfileRepository` implementation (sealed personal data,
//!   one-open-profile index, decisions in one transaction, labels).
//! - [`organizations`]: the `OrganizationRepository` (organizations, zones,
//!   memberships and their history).
//! - [`invitations_repo`]: the `InvitationRepository` (invitations, the
//!   acceptance log, accept in one transaction).
//! - [`events`]: the transactional outbox of every change, appended in the
//!   change's transaction and read back in commit order (`SqlEventLog`).
//! - [`tickets`]: the `UploadTicketRepository` implementation (exact per-owner rate limit).
//! - [`webhooks`]: the `WebhookStore` (endpoints, the fan-out cursor,
//!   deliveries claimed in order per subject, attempts).
//! - [`rate_limits`]: request rate limits shared by every replica (GCRA in one upsert).
//! - `backend`: the only module that tells PostgreSQL from SQLite (row and
//!   advisory locks, the migration lock, reading constraint violations).
//! - `schema` and `entities`: the tables, named once; `mapping`: rows →
//!   domain records. None of them leaves this crate.
//!
//! Every statement is built with sea-query or a sea-orm entity and rendered
//! for the connection's backend (docs/decisions/0008-one-sql-idiom.md).
#![forbid(unsafe_code)]

mod backend;
pub mod database;
mod entities;
pub mod events;
pub mod invitations_repo;
mod mapping;
mod memberships;
pub mod organizations;
pub mod photos;
pub mod profiles;
pub mod rate_limits;
mod schema;
pub mod tickets;
pub mod users;
pub mod webhooks;

pub use database::{Database, MIGRATION_LOCK, PoolSettings, PoolStats, is_unavailable};
pub use events::SqlEventLog;
pub use invitations_repo::SqlInvitationRepository;
pub use organizations::SqlOrganizationRepository;
pub use photos::SqlPhotoVerificationRepository;
pub use profiles::SqlProfileRepository;
pub use rate_limits::{Rate, SqlRateLimits};
pub use tickets::SqlUploadTicketRepository;
pub use users::SqlUserRepository;
pub use webhooks::SqlWebhookStore;
