//! `invitations.expiry_announced_for`: the expiry whose `invitation.expired`
//! event was written, so each expiry is announced once (a resend's new
//! expiry is announced anew); and the index the announcing job reads by.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP_POSTGRES: &str = "ALTER TABLE invitations ADD COLUMN expiry_announced_for TIMESTAMPTZ;
CREATE INDEX invitations_expiring_idx ON invitations (expires_at) WHERE status = 'pending'";

const UP_SQLITE: &str = "ALTER TABLE invitations ADD COLUMN expiry_announced_for TEXT;
CREATE INDEX invitations_expiring_idx ON invitations (expires_at) WHERE status = 'pending'";

const DOWN: &str = "DROP INDEX invitations_expiring_idx;
ALTER TABLE invitations DROP COLUMN expiry_announced_for";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP_POSTGRES, UP_SQLITE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN, DOWN).await
    }
}
