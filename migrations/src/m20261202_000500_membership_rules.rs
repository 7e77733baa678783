//! The schema behind the membership rules of issue 11 (expand only: every
//! existing column stays, so a replica still on the previous release keeps
//! working during a rolling upgrade).
//!
//! - `membership_zones`: a membership's zones as rows with foreign keys,
//!   backfilled from the comma-joined `memberships.zones` text, which is
//!   kept written as a mirror until a later contract migration drops it.
//! - `membership_history.invitation_id` and the causes `expiry_change` and
//!   `appointed` (SQLite rebuilds the table: it cannot alter a CHECK).
//! - `invitations.origin` (`member` | `import`), backfilled for imports.
//! - `zones.name_key`: the case-free zone name, unique per organization.
//! - `organization_blocks`: users kept out of an organization's invitations.
//! - `invitation_outbox.organization_id` and the indexes the quotas count with.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DatabaseBackend, Statement};
use std::collections::HashSet;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const POSTGRES: &str = r"
CREATE TABLE membership_zones (
    membership_id    UUID NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    zone_id          UUID NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
    PRIMARY KEY (membership_id, zone_id)
);
CREATE INDEX membership_zones_zone_idx ON membership_zones (zone_id, membership_id);
INSERT INTO membership_zones (membership_id, zone_id)
    SELECT m.id, CAST(z AS UUID) FROM memberships m, unnest(string_to_array(m.zones, ',')) AS z
    WHERE z <> '' AND EXISTS (SELECT 1 FROM zones WHERE zones.id = CAST(z AS UUID))
    ON CONFLICT DO NOTHING;
ALTER TABLE membership_history ADD COLUMN invitation_id UUID;
ALTER TABLE membership_history DROP CONSTRAINT membership_history_cause_check;
ALTER TABLE membership_history ADD CONSTRAINT membership_history_cause_check CHECK (cause IN ('created', 'invitation', 'role_change', 'zone_change', 'expiry_change', 'removed', 'left', 'expired', 'import', 'appointed'));
ALTER TABLE invitations ADD COLUMN origin TEXT NOT NULL DEFAULT 'member' CHECK (origin IN ('member', 'import'));
UPDATE invitations SET origin = 'import' WHERE id IN (SELECT invitation_id FROM membership_imports WHERE invitation_id IS NOT NULL);
CREATE INDEX invitations_org_page_idx ON invitations (organization_id, created_at, id);
CREATE INDEX invitations_pending_idx ON invitations (organization_id, expires_at) WHERE status = 'pending';
CREATE INDEX invitations_creator_idx ON invitations (organization_id, created_by) WHERE status = 'pending';
ALTER TABLE zones ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
CREATE TABLE organization_blocks (
    organization_id  UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_by       BIGINT NOT NULL,
    blocked_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
ALTER TABLE invitation_outbox ADD COLUMN organization_id UUID;
UPDATE invitation_outbox SET organization_id = (SELECT organization_id FROM invitations WHERE invitations.id = invitation_outbox.invitation_id);
CREATE INDEX invitation_outbox_org_idx ON invitation_outbox (organization_id, created_at);
CREATE INDEX invitation_outbox_recipient_idx ON invitation_outbox (recipient, created_at);
CREATE INDEX organizations_creator_idx ON organizations (created_by, created_at)
";

const SQLITE: &str = r"
CREATE TABLE membership_zones (
    membership_id    BLOB NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    zone_id          BLOB NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
    PRIMARY KEY (membership_id, zone_id)
);
CREATE INDEX membership_zones_zone_idx ON membership_zones (zone_id, membership_id);
CREATE TABLE membership_history_next (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    membership_id    BLOB NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    organization_id  BLOB NOT NULL,
    user_id          INTEGER NOT NULL,
    role             TEXT NOT NULL,
    zones            TEXT NOT NULL,
    status           TEXT NOT NULL,
    expires_at       TEXT,
    valid_from       TEXT NOT NULL,
    valid_to         TEXT,
    changed_by       INTEGER,
    cause            TEXT NOT NULL CHECK (cause IN ('created', 'invitation', 'role_change', 'zone_change', 'expiry_change', 'removed', 'left', 'expired', 'import', 'appointed')),
    invitation_id    BLOB
);
INSERT INTO membership_history_next (id, membership_id, organization_id, user_id, role, zones, status, expires_at, valid_from, valid_to, changed_by, cause)
    SELECT id, membership_id, organization_id, user_id, role, zones, status, expires_at, valid_from, valid_to, changed_by, cause FROM membership_history;
DROP TABLE membership_history;
ALTER TABLE membership_history_next RENAME TO membership_history;
CREATE INDEX membership_history_user_idx ON membership_history (organization_id, user_id, valid_from);
ALTER TABLE invitations ADD COLUMN origin TEXT NOT NULL DEFAULT 'member' CHECK (origin IN ('member', 'import'));
UPDATE invitations SET origin = 'import' WHERE id IN (SELECT invitation_id FROM membership_imports WHERE invitation_id IS NOT NULL);
CREATE INDEX invitations_org_page_idx ON invitations (organization_id, created_at, id);
CREATE INDEX invitations_pending_idx ON invitations (organization_id, expires_at) WHERE status = 'pending';
CREATE INDEX invitations_creator_idx ON invitations (organization_id, created_by) WHERE status = 'pending';
ALTER TABLE zones ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
CREATE TABLE organization_blocks (
    organization_id  BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_by       INTEGER NOT NULL,
    blocked_at       TEXT NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
ALTER TABLE invitation_outbox ADD COLUMN organization_id BLOB;
UPDATE invitation_outbox SET organization_id = (SELECT organization_id FROM invitations WHERE invitations.id = invitation_outbox.invitation_id);
CREATE INDEX invitation_outbox_org_idx ON invitation_outbox (organization_id, created_at);
CREATE INDEX invitation_outbox_recipient_idx ON invitation_outbox (recipient, created_at);
CREATE INDEX organizations_creator_idx ON organizations (created_by, created_at)
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        match conn.get_database_backend() {
            // One call, so one connection runs the whole script: the table
            // rebuild must not meet a pooled connection whose read snapshot
            // still has the old table.
            DatabaseBackend::Sqlite => conn.execute_unprepared(SQLITE).await.map(drop)?,
            _ => crate::run_script(manager, POSTGRES, SQLITE).await?,
        }
        backfill_sqlite_zones(manager).await?;
        backfill_zone_keys(manager).await?;
        manager
            .get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX zones_name_key_idx ON zones (organization_id, name_key)")
            .await
            .map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in [
            "DROP INDEX zones_name_key_idx",
            "DROP TABLE organization_blocks",
            "DROP TABLE membership_zones",
            "DROP INDEX invitations_org_page_idx",
            "DROP INDEX invitations_pending_idx",
            "DROP INDEX invitations_creator_idx",
            "DROP INDEX invitation_outbox_org_idx",
            "DROP INDEX invitation_outbox_recipient_idx",
            "DROP INDEX organizations_creator_idx",
        ] {
            conn.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}

/// SQLite has no `unnest`: split the comma-joined zones here.
async fn backfill_sqlite_zones(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let backend = conn.get_database_backend();
    if backend != DatabaseBackend::Sqlite {
        return Ok(());
    }
    let zones: HashSet<Vec<u8>> = conn
        .query_all_raw(Statement::from_string(backend, "SELECT id FROM zones"))
        .await?
        .iter()
        .map(|r| r.try_get::<Vec<u8>>("", "id"))
        .collect::<Result<_, _>>()?;
    let rows = conn
        .query_all_raw(Statement::from_string(backend, "SELECT id, zones FROM memberships WHERE zones <> ''"))
        .await?;
    for row in rows {
        let id: Vec<u8> = row.try_get("", "id")?;
        let listed: String = row.try_get("", "zones")?;
        for zone in listed.split(',').filter(|z| !z.is_empty()) {
            let Ok(zone) = uuid::Uuid::parse_str(zone) else { continue };
            if !zones.contains(zone.as_bytes().as_slice()) {
                continue;
            }
            conn.execute_raw(Statement::from_sql_and_values(
                backend,
                "INSERT OR IGNORE INTO membership_zones (membership_id, zone_id) VALUES (?, ?)",
                [id.clone().into(), zone.as_bytes().to_vec().into()],
            ))
            .await?;
        }
    }
    Ok(())
}

/// Fills `zones.name_key` (the zone name lower-cased, as the model's
/// `Name::key` computes it). Zones that only differ by case already exist in
/// some organizations; the later ones keep their names and get a key made
/// unique with their id, so the unique index can be built and nothing is lost.
async fn backfill_zone_keys(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, organization_id, name FROM zones ORDER BY created_at, id",
        ))
        .await?;
    let mut seen = HashSet::new();
    let placeholder = |n: usize| match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let update = format!("UPDATE zones SET name_key = {} WHERE id = {}", placeholder(1), placeholder(2));
    for row in rows {
        let id: uuid::Uuid = row.try_get("", "id")?;
        let org: uuid::Uuid = row.try_get("", "organization_id")?;
        let name: String = row.try_get("", "name")?;
        let mut key = name.to_lowercase();
        if !seen.insert((org, key.clone())) {
            key = format!("{key}#{id}");
        }
        conn.execute_raw(Statement::from_sql_and_values(backend, update.clone(), [key.into(), id.into()])).await?;
    }
    Ok(())
}
