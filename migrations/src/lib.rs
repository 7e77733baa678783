//! Usher's schema migrations, applied by `usher migrate` and at start-up.
//!
//! Each migration is written once per backend in plain SQL (PostgreSQL and
//! SQLite differ in identity columns, types and partial-index syntax only at
//! the edges), or once for both with sea-query where nothing differs, and
//! never edited once applied: later changes are new migrations (expand,
//! then contract).
#![forbid(unsafe_code)]

use sea_orm_migration::prelude::*;

mod m20261122_000001_users;
mod m20261122_000002_upload_tickets;
mod m20261122_000100_organizations;
mod m20261122_000101_invitations;
mod m20261122_000102_invitation_outbox;
mod m20261122_000103_membership_imports;
mod m20261122_000200_photo_verifications;
mod m20261122_000201_photo_events_append_only;
mod m20261122_000300_profiles;
mod m20261122_000400_members_page_index;
mod m20261202_000500_membership_rules;
mod m20261202_000600_reviews_and_privacy;
mod m20261203_000700_membership_zones_contract;
mod m20261204_000800_member_search;
mod m20261205_000900_membership_history_index;
mod m20261206_001000_rate_limits;
mod m20261207_001100_events;
mod m20261208_001200_events_retention;
mod m20261209_001300_invitation_expiry_events;
mod m20261210_001400_webhooks;

/// Every migration, oldest first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_users::Migration),
            Box::new(m20261122_000002_upload_tickets::Migration),
            Box::new(m20261122_000100_organizations::Migration),
            Box::new(m20261122_000101_invitations::Migration),
            Box::new(m20261122_000102_invitation_outbox::Migration),
            Box::new(m20261122_000103_membership_imports::Migration),
            Box::new(m20261122_000200_photo_verifications::Migration),
            Box::new(m20261122_000201_photo_events_append_only::Migration),
            Box::new(m20261122_000300_profiles::Migration),
            Box::new(m20261122_000400_members_page_index::Migration),
            Box::new(m20261202_000500_membership_rules::Migration),
            Box::new(m20261202_000600_reviews_and_privacy::Migration),
            Box::new(m20261203_000700_membership_zones_contract::Migration),
            Box::new(m20261204_000800_member_search::Migration),
            Box::new(m20261205_000900_membership_history_index::Migration),
            Box::new(m20261206_001000_rate_limits::Migration),
            Box::new(m20261207_001100_events::Migration),
            Box::new(m20261208_001200_events_retention::Migration),
            Box::new(m20261209_001300_invitation_expiry_events::Migration),
            Box::new(m20261210_001400_webhooks::Migration),
        ]
    }
}

/// Runs one backend-specific SQL script statement by statement.
pub(crate) async fn run_script(manager: &SchemaManager<'_>, postgres: &str, sqlite: &str) -> Result<(), DbErr> {
    let script = match manager.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => postgres,
        sea_orm::DatabaseBackend::Sqlite => sqlite,
        other => {
            return Err(DbErr::Migration(format!("unsupported database backend {other:?}")));
        }
    };
    let conn = manager.get_connection();
    for statement in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        conn.execute_unprepared(statement).await?;
    }
    Ok(())
}
