//! The contract of m20261202_000500's expand: `membership_zones` becomes the
//! only record of a membership's zones, and the comma-joined
//! `memberships.zones` mirror is dropped, on both databases.
//!
//! Before the drop, every membership whose mirror and rows disagree gets
//! the rows its mirror lists. Every release since m20261202_000500 wrote
//! both in one transaction, so they can only disagree for a membership an
//! older release changed during a rolling upgrade (it wrote the text alone,
//! so the text is the newer) or for a zone deleted since (its rows cascaded
//! away; the text still names it, and a zone that no longer exists is not
//! restored). A token that is not a zone id is skipped, as the backfill did.
//!
//! `membership_history.zones` stays: it is a snapshot of a past state, not a
//! reference, and a deleted zone must not rewrite history.
//!
//! Deploy note: a replica of an older release still names `memberships.zones`
//! in its writes, so stop the older replicas before this migration runs.

use sea_orm_migration::prelude::*;
use std::collections::{BTreeSet, HashMap, HashSet};
use uuid::Uuid;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    Zones,
}

#[derive(DeriveIden)]
enum MembershipZones {
    Table,
    MembershipId,
    ZoneId,
}

#[derive(DeriveIden)]
enum Zones {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // The reconcile writes, the drop and the migration's record commit
    // together on SQLite too (sea-orm-migration wraps only PostgreSQL by
    // default): a crash between the drop and the record would otherwise
    // leave a database whose next start re-runs the reconcile on a dropped column.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        reconcile(manager).await?;
        manager.alter_table(Table::alter().table(Memberships::Table).drop_column(Memberships::Zones).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Memberships::Table)
                    .add_column(ColumnDef::new(Memberships::Zones).text().not_null().default(""))
                    .to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        for (membership, zones) in zone_rows(manager).await? {
            let text = zones.iter().map(Uuid::to_string).collect::<Vec<_>>().join(",");
            let update = Query::update()
                .table(Memberships::Table)
                .value(Memberships::Zones, text)
                .and_where(Expr::col(Memberships::Id).eq(membership))
                .to_owned();
            conn.execute(&update).await?;
        }
        Ok(())
    }
}

/// The zones of every membership that has rows in `membership_zones`.
async fn zone_rows(manager: &SchemaManager<'_>) -> Result<HashMap<Uuid, BTreeSet<Uuid>>, DbErr> {
    let conn = manager.get_connection();
    let select = Query::select()
        .columns([MembershipZones::MembershipId, MembershipZones::ZoneId])
        .from(MembershipZones::Table)
        .to_owned();
    let mut rows: HashMap<Uuid, BTreeSet<Uuid>> = HashMap::new();
    for row in conn.query_all(&select).await? {
        rows.entry(row.try_get("", "membership_id")?).or_default().insert(row.try_get("", "zone_id")?);
    }
    Ok(rows)
}

/// Makes `membership_zones` list, for every membership, the existing zones
/// its `zones` text lists, where the two disagree.
async fn reconcile(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let existing: HashSet<Uuid> = conn
        .query_all(&Query::select().column(Zones::Id).from(Zones::Table).to_owned())
        .await?
        .iter()
        .map(|r| r.try_get::<Uuid>("", "id"))
        .collect::<Result<_, _>>()?;
    let mut rows = zone_rows(manager).await?;
    let memberships =
        Query::select().columns([Memberships::Id, Memberships::Zones]).from(Memberships::Table).to_owned();
    for membership in conn.query_all(&memberships).await? {
        let id: Uuid = membership.try_get("", "id")?;
        let text: String = membership.try_get("", "zones")?;
        let listed: BTreeSet<Uuid> = text
            .split(',')
            .filter_map(|token| Uuid::parse_str(token.trim()).ok())
            .filter(|zone| existing.contains(zone))
            .collect();
        if rows.remove(&id).unwrap_or_default() == listed {
            continue;
        }
        let clear = Query::delete()
            .from_table(MembershipZones::Table)
            .and_where(Expr::col(MembershipZones::MembershipId).eq(id))
            .to_owned();
        conn.execute(&clear).await?;
        for zone in listed {
            let insert = Query::insert()
                .into_table(MembershipZones::Table)
                .columns([MembershipZones::MembershipId, MembershipZones::ZoneId])
                .values_panic([id.into(), zone.into()])
                .to_owned();
            conn.execute(&insert).await?;
        }
    }
    Ok(())
}
