//! `rate_limits`: the state of the request rate limits (the public
//! invitation preview per address, accepting per caller), kept in the
//! database so that every replica counts against one allowance. One row per
//! limit and key holds the GCRA's theoretical arrival time in microseconds
//! since the Unix epoch; a row whose time has passed is a full allowance
//! and may be deleted at any time.
//!
//! On PostgreSQL the table is `UNLOGGED`: its writes skip the write-ahead
//! log, so taking a request does not wait for a disk flush, and a crash
//! empties it, which only hands every key its full allowance again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP_POSTGRES: &str = "CREATE UNLOGGED TABLE rate_limits (
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    arrival_us BIGINT NOT NULL,
    PRIMARY KEY (name, key)
)";

const UP_SQLITE: &str = "CREATE TABLE rate_limits (
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    arrival_us INTEGER NOT NULL,
    PRIMARY KEY (name, key)
) WITHOUT ROWID";

const DOWN: &str = "DROP TABLE rate_limits";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP_POSTGRES, UP_SQLITE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN, DOWN).await
    }
}
