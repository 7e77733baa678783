//! `events`: the transactional outbox of every state change (docs/events.md).
//! Each change's transaction appends its events; `position` is their commit
//! order. Writers take it as the largest position plus one while holding a
//! lock until they commit (PostgreSQL: a transaction-scoped advisory lock;
//! SQLite: its one writer), so a reader that has seen position `n` never
//! sees a smaller one appear later.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP_POSTGRES: &str = "CREATE TABLE events (
    position BIGINT PRIMARY KEY,
    id UUID NOT NULL UNIQUE,
    type TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor_id BIGINT,
    organization_id UUID,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_organization_position ON events (organization_id, position)";

const UP_SQLITE: &str = "CREATE TABLE events (
    position INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    type TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    actor_id INTEGER,
    organization_id BLOB,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_organization_position ON events (organization_id, position)";

const DOWN: &str = "DROP TABLE events";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP_POSTGRES, UP_SQLITE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN, DOWN).await
    }
}
