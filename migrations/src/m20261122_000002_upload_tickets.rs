//! Upload tickets (the avatar's and, later, the logo's two-step upload) and
//! the object key of the current avatar, so a replaced one can be deleted.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const POSTGRES: &str = r"
CREATE TABLE upload_tickets (
    id            UUID PRIMARY KEY,
    purpose       TEXT NOT NULL,
    owner         TEXT NOT NULL,
    requested_by  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tmp_key       TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('issued', 'used', 'rejected')),
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    decided_at    TIMESTAMPTZ,
    swept_at      TIMESTAMPTZ,
    CONSTRAINT upload_tickets_tmp_key_key UNIQUE (tmp_key)
);
CREATE INDEX upload_tickets_window_idx ON upload_tickets (purpose, owner, created_at);
CREATE INDEX upload_tickets_unswept_idx ON upload_tickets (expires_at) WHERE swept_at IS NULL;
ALTER TABLE users ADD COLUMN avatar_key TEXT
";

const SQLITE: &str = r"
CREATE TABLE upload_tickets (
    id            BLOB PRIMARY KEY,
    purpose       TEXT NOT NULL,
    owner         TEXT NOT NULL,
    requested_by  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tmp_key       TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('issued', 'used', 'rejected')),
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    decided_at    TEXT,
    swept_at      TEXT,
    CONSTRAINT upload_tickets_tmp_key_key UNIQUE (tmp_key)
);
CREATE INDEX upload_tickets_window_idx ON upload_tickets (purpose, owner, created_at);
CREATE INDEX upload_tickets_unswept_idx ON upload_tickets (expires_at) WHERE swept_at IS NULL;
ALTER TABLE users ADD COLUMN avatar_key TEXT
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, POSTGRES, SQLITE).await
    }
}
