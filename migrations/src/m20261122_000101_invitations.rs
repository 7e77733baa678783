//! Invitations (only the SHA-256 of a token is stored) and the acceptance
//! log of every attempt, failed ones included (seed 004).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const POSTGRES: &str = r"
CREATE TABLE invitations (
    id                           UUID PRIMARY KEY,
    organization_id              UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    zone_id                      UUID REFERENCES zones (id) ON DELETE CASCADE,
    role                         TEXT NOT NULL CHECK (role IN ('guest', 'member', 'moderator', 'admin')),
    email                        TEXT,
    user_id                      BIGINT REFERENCES users (id) ON DELETE CASCADE,
    kind                         TEXT NOT NULL CHECK (kind IN ('internal', 'external')),
    max_uses                     BIGINT NOT NULL CHECK (max_uses BETWEEN 1 AND 1000),
    use_count                    BIGINT NOT NULL CHECK (use_count >= 0),
    expires_at                   TIMESTAMPTZ NOT NULL,
    valid_for_seconds            BIGINT NOT NULL,
    membership_duration_seconds  BIGINT,
    status                       TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'revoked')),
    token_hash                   TEXT NOT NULL,
    created_by                   BIGINT NOT NULL REFERENCES users (id),
    created_at                   TIMESTAMPTZ NOT NULL,
    updated_at                   TIMESTAMPTZ NOT NULL,
    version                      BIGINT NOT NULL,
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitations_uses_check CHECK (use_count <= max_uses)
);
CREATE INDEX invitations_organization_idx ON invitations (organization_id, created_at);
CREATE INDEX invitations_user_idx ON invitations (user_id) WHERE status = 'pending';
CREATE INDEX invitations_email_idx ON invitations (email) WHERE status = 'pending';
CREATE TABLE invitation_acceptances (
    id             UUID PRIMARY KEY,
    invitation_id  UUID NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    user_id        BIGINT,
    outcome        TEXT NOT NULL CHECK (outcome IN ('accepted', 'declined', 'failed')),
    reason         TEXT,
    at             TIMESTAMPTZ NOT NULL,
    ip             TEXT,
    user_agent     TEXT
);
CREATE INDEX invitation_acceptances_invitation_idx ON invitation_acceptances (invitation_id, at)
";

const SQLITE: &str = r"
CREATE TABLE invitations (
    id                           BLOB PRIMARY KEY,
    organization_id              BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    zone_id                      BLOB REFERENCES zones (id) ON DELETE CASCADE,
    role                         TEXT NOT NULL CHECK (role IN ('guest', 'member', 'moderator', 'admin')),
    email                        TEXT,
    user_id                      INTEGER REFERENCES users (id) ON DELETE CASCADE,
    kind                         TEXT NOT NULL CHECK (kind IN ('internal', 'external')),
    max_uses                     INTEGER NOT NULL CHECK (max_uses BETWEEN 1 AND 1000),
    use_count                    INTEGER NOT NULL CHECK (use_count >= 0),
    expires_at                   TEXT NOT NULL,
    valid_for_seconds            INTEGER NOT NULL,
    membership_duration_seconds  INTEGER,
    status                       TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'revoked')),
    token_hash                   TEXT NOT NULL,
    created_by                   INTEGER NOT NULL REFERENCES users (id),
    created_at                   TEXT NOT NULL,
    updated_at                   TEXT NOT NULL,
    version                      INTEGER NOT NULL,
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitations_uses_check CHECK (use_count <= max_uses)
);
CREATE INDEX invitations_organization_idx ON invitations (organization_id, created_at);
CREATE INDEX invitations_user_idx ON invitations (user_id) WHERE status = 'pending';
CREATE INDEX invitations_email_idx ON invitations (email) WHERE status = 'pending';
CREATE TABLE invitation_acceptances (
    id             BLOB PRIMARY KEY,
    invitation_id  BLOB NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    user_id        INTEGER,
    outcome        TEXT NOT NULL CHECK (outcome IN ('accepted', 'declined', 'failed')),
    reason         TEXT,
    at             TEXT NOT NULL,
    ip             TEXT,
    user_agent     TEXT
);
CREATE INDEX invitation_acceptances_invitation_idx ON invitation_acceptances (invitation_id, at)
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, POSTGRES, SQLITE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("DROP TABLE invitation_acceptances").await?;
        conn.execute_unprepared("DROP TABLE invitations").await.map(drop)
    }
}
