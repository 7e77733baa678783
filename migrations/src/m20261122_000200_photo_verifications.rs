//! Photo verification (seed 000): the users' linked Discord id (unique), the
//! verifications (at most one PENDING per user, enforced by a partial unique
//! index) and their append-only event log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const POSTGRES: &str = r"
ALTER TABLE users ADD COLUMN discord_id TEXT;
CREATE UNIQUE INDEX users_discord_id_key ON users (discord_id) WHERE discord_id IS NOT NULL;
CREATE TABLE photo_verifications (
    id                    UUID PRIMARY KEY,
    user_id               BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    discord_id            TEXT,
    previous_profile_url  TEXT,
    previous_discord_url  TEXT,
    profile_url           TEXT NOT NULL,
    profile_key           TEXT NOT NULL,
    profile_sha256        TEXT NOT NULL,
    profile_approved_by   BIGINT,
    profile_approved_at   TIMESTAMPTZ,
    discord_url           TEXT,
    discord_avatar_hash   TEXT,
    discord_fetched_at    TIMESTAMPTZ,
    discord_approved_by   BIGINT,
    discord_approved_at   TIMESTAMPTZ,
    status                TEXT NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'REJECTED', 'SUPERSEDED')),
    reason                TEXT,
    decided_by            BIGINT,
    decided_at            TIMESTAMPTZ,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    version               BIGINT NOT NULL
);
CREATE UNIQUE INDEX photo_verifications_one_pending_key ON photo_verifications (user_id) WHERE status = 'PENDING';
CREATE INDEX photo_verifications_status_idx ON photo_verifications (status, created_at, id);
CREATE INDEX photo_verifications_user_idx ON photo_verifications (user_id, created_at, id);
CREATE TABLE photo_verification_events (
    id               UUID PRIMARY KEY,
    verification_id  UUID NOT NULL REFERENCES photo_verifications (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    actor_id         BIGINT NOT NULL,
    old_hash         TEXT,
    new_hash         TEXT,
    reason           TEXT,
    at               TIMESTAMPTZ NOT NULL
);
CREATE INDEX photo_verification_events_verification_idx ON photo_verification_events (verification_id, at)
";

const SQLITE: &str = r"
ALTER TABLE users ADD COLUMN discord_id TEXT;
CREATE UNIQUE INDEX users_discord_id_key ON users (discord_id) WHERE discord_id IS NOT NULL;
CREATE TABLE photo_verifications (
    id                    BLOB PRIMARY KEY,
    user_id               INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    discord_id            TEXT,
    previous_profile_url  TEXT,
    previous_discord_url  TEXT,
    profile_url           TEXT NOT NULL,
    profile_key           TEXT NOT NULL,
    profile_sha256        TEXT NOT NULL,
    profile_approved_by   INTEGER,
    profile_approved_at   TEXT,
    discord_url           TEXT,
    discord_avatar_hash   TEXT,
    discord_fetched_at    TEXT,
    discord_approved_by   INTEGER,
    discord_approved_at   TEXT,
    status                TEXT NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'REJECTED', 'SUPERSEDED')),
    reason                TEXT,
    decided_by            INTEGER,
    decided_at            TEXT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    version               INTEGER NOT NULL
);
CREATE UNIQUE INDEX photo_verifications_one_pending_key ON photo_verifications (user_id) WHERE status = 'PENDING';
CREATE INDEX photo_verifications_status_idx ON photo_verifications (status, created_at, id);
CREATE INDEX photo_verifications_user_idx ON photo_verifications (user_id, created_at, id);
CREATE TABLE photo_verification_events (
    id               BLOB PRIMARY KEY,
    verification_id  BLOB NOT NULL REFERENCES photo_verifications (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    actor_id         INTEGER NOT NULL,
    old_hash         TEXT,
    new_hash         TEXT,
    reason           TEXT,
    at               TEXT NOT NULL
);
CREATE INDEX photo_verification_events_verification_idx ON photo_verification_events (verification_id, at)
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, POSTGRES, SQLITE).await
    }
}
