//! Legacy memberships imported from a file (FiO "Case 1"): one row per
//! organization and e-mail makes re-running an import change nothing, and
//! remembers the invitation to apply when an unknown e-mail first signs in.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const POSTGRES: &str = r"
CREATE TABLE membership_imports (
    organization_id  UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('guest', 'member', 'moderator', 'admin')),
    joined_at        TIMESTAMPTZ NOT NULL,
    invitation_id    UUID REFERENCES invitations (id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    applied_at       TIMESTAMPTZ,
    PRIMARY KEY (organization_id, email)
);
CREATE INDEX membership_imports_pending_idx ON membership_imports (email) WHERE applied_at IS NULL
";

const SQLITE: &str = r"
CREATE TABLE membership_imports (
    organization_id  BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('guest', 'member', 'moderator', 'admin')),
    joined_at        TEXT NOT NULL,
    invitation_id    BLOB REFERENCES invitations (id) ON DELETE SET NULL,
    created_at       TEXT NOT NULL,
    applied_at       TEXT,
    PRIMARY KEY (organization_id, email)
);
CREATE INDEX membership_imports_pending_idx ON membership_imports (email) WHERE applied_at IS NULL
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, POSTGRES, SQLITE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE membership_imports").await.map(drop)
    }
}
