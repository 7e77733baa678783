//! The schema behind issue 12 (expand only): what reviewers tell users
//! (rejection note and retry on photo verifications, their events and
//! profile decisions), withdrawn profiles, per-user data keys sealing
//! personal data (destroyed by an erasure), and the erasure record.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const POSTGRES: &str = r"
ALTER TABLE photo_verifications ADD COLUMN note TEXT;
ALTER TABLE photo_verifications ADD COLUMN retry TEXT CHECK (retry IN ('retry', 'final'));
ALTER TABLE photo_verification_events ADD COLUMN note TEXT;
CREATE INDEX photo_verifications_decided_idx ON photo_verifications (user_id, decided_at) WHERE status IN ('ACCEPTED', 'REJECTED');
CREATE INDEX photo_verifications_unread_discord_idx ON photo_verifications (created_at) WHERE status = 'PENDING' AND discord_id IS NOT NULL AND discord_fetched_at IS NULL
";

const SQLITE: &str = r"
ALTER TABLE photo_verifications ADD COLUMN note TEXT;
ALTER TABLE photo_verifications ADD COLUMN retry TEXT CHECK (retry IN ('retry', 'final'));
ALTER TABLE photo_verification_events ADD COLUMN note TEXT;
CREATE INDEX photo_verifications_decided_idx ON photo_verifications (user_id, decided_at) WHERE status IN ('ACCEPTED', 'REJECTED');
CREATE INDEX photo_verifications_unread_discord_idx ON photo_verifications (created_at) WHERE status = 'PENDING' AND discord_id IS NOT NULL AND discord_fetched_at IS NULL
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, POSTGRES, SQLITE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("DROP INDEX photo_verifications_decided_idx").await?;
        conn.execute_unprepared("DROP INDEX photo_verifications_unread_discord_idx").await.map(drop)
    }
}
