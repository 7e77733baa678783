//! The invitation e-mail outbox: rows written in the invitation's
//! transaction, sent and retried by a background task. Rows carry no token.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const POSTGRES: &str = r"
CREATE TABLE invitation_outbox (
    id               UUID PRIMARY KEY,
    invitation_id    UUID NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    recipient        TEXT NOT NULL,
    organization     TEXT NOT NULL,
    invited_by       TEXT NOT NULL,
    role             TEXT NOT NULL,
    link             TEXT NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT,
    sent_at          TIMESTAMPTZ,
    abandoned_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX invitation_outbox_due_idx ON invitation_outbox (next_attempt_at) WHERE sent_at IS NULL AND abandoned_at IS NULL
";

const SQLITE: &str = r"
CREATE TABLE invitation_outbox (
    id               BLOB PRIMARY KEY,
    invitation_id    BLOB NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    recipient        TEXT NOT NULL,
    organization     TEXT NOT NULL,
    invited_by       TEXT NOT NULL,
    role             TEXT NOT NULL,
    link             TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    sent_at          TEXT,
    abandoned_at     TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX invitation_outbox_due_idx ON invitation_outbox (next_attempt_at) WHERE sent_at IS NULL AND abandoned_at IS NULL
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, POSTGRES, SQLITE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE invitation_outbox").await.map(drop)
    }
}
