//! The schema behind issue 12: what reviewers tell users (rejection note
//! and retry on photo verifications, their events and profile decisions),
//! withdrawn profiles, per-user data keys sealing personal data (destroyed
//! by an erasure), and the erasure record. Expand only on PostgreSQL;
//! SQLite cannot alter a CHECK, so it rebuilds `profiles` and
//! `profile_decisions` keeping every row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const POSTGRES: &str = r"
ALTER TABLE photo_verifications ADD COLUMN note TEXT;
ALTER TABLE photo_verifications ADD COLUMN retry TEXT CHECK (retry IN ('retry', 'final'));
ALTER TABLE photo_verification_events ADD COLUMN note TEXT;
CREATE INDEX photo_verifications_decided_idx ON photo_verifications (user_id, decided_at) WHERE status IN ('ACCEPTED', 'REJECTED');
CREATE INDEX photo_verifications_unread_discord_idx ON photo_verifications (created_at) WHERE status = 'PENDING' AND discord_id IS NOT NULL AND discord_fetched_at IS NULL;
ALTER TABLE profiles DROP CONSTRAINT profiles_state_check;
ALTER TABLE profiles ADD CONSTRAINT profiles_state_check CHECK (state IN ('drafted', 'submitted', 'verified', 'rejected', 'withdrawn'));
ALTER TABLE profile_decisions ADD COLUMN note TEXT;
ALTER TABLE profile_decisions ADD COLUMN retry TEXT CHECK (retry IN ('retry', 'final'));
ALTER TABLE profile_decisions ADD CONSTRAINT profile_decisions_retry_only_on_rejection CHECK (decision = 'rejected' OR retry IS NULL);
CREATE TABLE user_data_keys (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    wrapped       TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    destroyed_at  TIMESTAMPTZ,
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);
CREATE TABLE user_erasures (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    erased_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    erased_at  TIMESTAMPTZ NOT NULL
)
";

const SQLITE: &str = r"
ALTER TABLE photo_verifications ADD COLUMN note TEXT;
ALTER TABLE photo_verifications ADD COLUMN retry TEXT CHECK (retry IN ('retry', 'final'));
ALTER TABLE photo_verification_events ADD COLUMN note TEXT;
CREATE INDEX photo_verifications_decided_idx ON photo_verifications (user_id, decided_at) WHERE status IN ('ACCEPTED', 'REJECTED');
CREATE INDEX photo_verifications_unread_discord_idx ON photo_verifications (created_at) WHERE status = 'PENDING' AND discord_id IS NOT NULL AND discord_fetched_at IS NULL;
CREATE TABLE profiles_next (
    id          BLOB PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    first_name  TEXT,
    last_name   TEXT,
    dob         TEXT,
    address     TEXT,
    postcode    TEXT,
    city        TEXT,
    country     TEXT,
    metadata    TEXT,
    state       TEXT NOT NULL CHECK (state IN ('drafted', 'submitted', 'verified', 'rejected', 'withdrawn')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     INTEGER NOT NULL
);
INSERT INTO profiles_next (id, user_id, author_id, first_name, last_name, dob, address, postcode, city, country, metadata, state, created_at, updated_at, version)
    SELECT id, user_id, author_id, first_name, last_name, dob, address, postcode, city, country, metadata, state, created_at, updated_at, version FROM profiles;
CREATE TABLE profile_decisions_next (
    id          BLOB PRIMARY KEY,
    profile_id  BLOB NOT NULL REFERENCES profiles_next (id) ON DELETE CASCADE,
    admin_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('verified', 'rejected')),
    reason      TEXT,
    decided_at  TEXT NOT NULL,
    note        TEXT,
    retry       TEXT CHECK (retry IN ('retry', 'final')),
    CHECK (decision = 'verified' OR reason IS NOT NULL),
    CHECK (decision = 'rejected' OR retry IS NULL)
);
INSERT INTO profile_decisions_next (id, profile_id, admin_id, decision, reason, decided_at)
    SELECT id, profile_id, admin_id, decision, reason, decided_at FROM profile_decisions;
DROP TABLE profile_decisions;
DROP TABLE profiles;
ALTER TABLE profiles_next RENAME TO profiles;
ALTER TABLE profile_decisions_next RENAME TO profile_decisions;
CREATE UNIQUE INDEX profiles_one_open_per_user ON profiles (user_id) WHERE state IN ('drafted', 'submitted');
CREATE INDEX profiles_user_idx ON profiles (user_id, created_at, id);
CREATE INDEX profiles_page_idx ON profiles (created_at, id);
CREATE INDEX profiles_state_page_idx ON profiles (state, created_at, id);
CREATE INDEX profile_decisions_profile_idx ON profile_decisions (profile_id, decided_at);
CREATE TRIGGER profile_decisions_no_update BEFORE UPDATE ON profile_decisions BEGIN SELECT RAISE(ABORT, 'profile_decisions is append-only'); END;
CREATE TABLE user_data_keys (
    user_id       INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    wrapped       TEXT,
    created_at    TEXT NOT NULL,
    destroyed_at  TEXT,
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);
CREATE TABLE user_erasures (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    erased_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    erased_at  TEXT NOT NULL
)
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        match conn.get_database_backend() {
            // SQLite cannot alter a CHECK: `profiles` is rebuilt, and with it
            // `profile_decisions` (dropping the old `profiles` would cascade
            // into any table still referencing it). One call, so one
            // connection runs the whole rebuild.
            DatabaseBackend::Sqlite => conn.execute_unprepared(SQLITE).await.map(drop),
            _ => crate::run_script(manager, POSTGRES, SQLITE).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("DROP INDEX photo_verifications_decided_idx").await?;
        conn.execute_unprepared("DROP INDEX photo_verifications_unread_discord_idx").await.map(drop)
    }
}
