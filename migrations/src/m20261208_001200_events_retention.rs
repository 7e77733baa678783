//! `events (occurred_at)`: the retention job deletes the events past
//! `events.retention_days` by the time they occurred, oldest first, without
//! reading the whole log each run.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = "CREATE INDEX events_occurred_at ON events (occurred_at)";

const DOWN: &str = "DROP INDEX events_occurred_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN, DOWN).await
    }
}
