//! KYC profiles (seed 001), their immutable decision log and user labels.
//!
//! - `profiles.first_name`, `last_name`, `dob` and `address` hold values
//!   sealed with AES-256-GCM by the app (`v1.<key id>.<base64>`), never plaintext.
//! - `profiles_one_open_per_user`: at most one drafted-or-submitted profile per
//!   user, so racing creates cannot make two.
//! - `profile_decisions` is append-only: a trigger refuses every UPDATE.
//!   Rows go away only with their user (erasure cascades).
//! - `labels` is keyed by (user, key, scope) so a decision upserts the
//!   `profile` label.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const POSTGRES: &str = r"
CREATE TABLE profiles (
    id          UUID PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    first_name  TEXT,
    last_name   TEXT,
    dob         TEXT,
    address     TEXT,
    postcode    TEXT,
    city        TEXT,
    country     TEXT,
    metadata    TEXT,
    state       TEXT NOT NULL CHECK (state IN ('drafted', 'submitted', 'verified', 'rejected')),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL
);
CREATE UNIQUE INDEX profiles_one_open_per_user ON profiles (user_id) WHERE state IN ('drafted', 'submitted');
CREATE INDEX profiles_user_idx ON profiles (user_id, created_at, id);
CREATE INDEX profiles_page_idx ON profiles (created_at, id);
CREATE INDEX profiles_state_page_idx ON profiles (state, created_at, id);
CREATE TABLE profile_decisions (
    id          UUID PRIMARY KEY,
    profile_id  UUID NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    admin_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('verified', 'rejected')),
    reason      TEXT,
    decided_at  TIMESTAMPTZ NOT NULL,
    CHECK (decision = 'verified' OR reason IS NOT NULL)
);
CREATE INDEX profile_decisions_profile_idx ON profile_decisions (profile_id, decided_at);
CREATE FUNCTION profile_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'profile_decisions is append-only'; END $$;
CREATE TRIGGER profile_decisions_no_update BEFORE UPDATE ON profile_decisions FOR EACH ROW EXECUTE FUNCTION profile_decisions_append_only();
CREATE TABLE labels (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    scope       TEXT NOT NULL CHECK (scope IN ('private', 'public')),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key, scope)
)
";

const SQLITE: &str = r"
CREATE TABLE profiles (
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
    state       TEXT NOT NULL CHECK (state IN ('drafted', 'submitted', 'verified', 'rejected')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     INTEGER NOT NULL
);
CREATE UNIQUE INDEX profiles_one_open_per_user ON profiles (user_id) WHERE state IN ('drafted', 'submitted');
CREATE INDEX profiles_user_idx ON profiles (user_id, created_at, id);
CREATE INDEX profiles_page_idx ON profiles (created_at, id);
CREATE INDEX profiles_state_page_idx ON profiles (state, created_at, id);
CREATE TABLE profile_decisions (
    id          BLOB PRIMARY KEY,
    profile_id  BLOB NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    admin_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('verified', 'rejected')),
    reason      TEXT,
    decided_at  TEXT NOT NULL,
    CHECK (decision = 'verified' OR reason IS NOT NULL)
);
CREATE INDEX profile_decisions_profile_idx ON profile_decisions (profile_id, decided_at);
CREATE TRIGGER profile_decisions_no_update BEFORE UPDATE ON profile_decisions BEGIN SELECT RAISE(ABORT, 'profile_decisions is append-only'); END;
CREATE TABLE labels (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    scope       TEXT NOT NULL CHECK (scope IN ('private', 'public')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, key, scope)
)
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, POSTGRES, SQLITE).await
    }
}
