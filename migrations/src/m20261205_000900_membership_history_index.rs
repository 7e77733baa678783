//! An index on `membership_history (membership_id)`: every membership write
//! closes the membership's open history row (`valid_to IS NULL`), and a
//! deleted membership cascades to its history. Without it, both walked the
//! whole history table — one sequential scan per accept, role change or
//! removal, growing with every change ever made (found under the accept
//! benchmark, docs/benchmarks.md).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &str = "CREATE INDEX membership_history_membership_idx ON membership_history (membership_id)";

const DOWN: &str = "DROP INDEX membership_history_membership_idx";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN, DOWN).await
    }
}
