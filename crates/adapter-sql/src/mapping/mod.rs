//! Rows → domain records, in one place: entity models (`users`, `tickets`,
//! `photos`, `profiles`) and the rows of sea-query statements
//! (`organizations`, `invitations`), read by the column names of
//! `crate::schema`. A stored value that no longer parses is an `Unexpected`
//! error naming the row, never a panic. Nothing here leaves the crate.

mod invitations;
mod organizations;
mod photos;
pub(crate) mod profiles;
mod tickets;
mod users;

pub(crate) use invitations::{acceptance, invitation, outbox_mail};
pub(crate) use organizations::{account, block, encode_zones, history, membership, organization, zone};
pub(crate) use photos::{photo_event, photo_event_model, photo_verification, photo_verification_model};
pub(crate) use tickets::ticket;
pub(crate) use users::{membership_record, user};

use anyhow::{Context as _, anyhow};
use sea_orm::QueryResult;
use sea_orm::sea_query::Iden;
use shared_kernel::{OrgRole, truncate_to_micros};
use time::OffsetDateTime;

/// Column `col` of `row`, under the alias prefix `pre` (`""` for none).
pub(crate) fn get<T: sea_orm::TryGetable>(row: &QueryResult, pre: &str, col: impl Iden) -> anyhow::Result<T> {
    let col = col.unquoted();
    row.try_get::<T>(pre, col).with_context(|| format!("reading column {pre}{col}"))
}

/// An instant column, at the microsecond precision both databases keep.
pub(crate) fn time_of(row: &QueryResult, pre: &str, col: impl Iden) -> anyhow::Result<OffsetDateTime> {
    get::<OffsetDateTime>(row, pre, col).map(truncate_to_micros)
}

/// A nullable instant column (or aggregate, such as a quota's oldest row).
pub(crate) fn opt_time_of(row: &QueryResult, pre: &str, col: impl Iden) -> anyhow::Result<Option<OffsetDateTime>> {
    Ok(get::<Option<OffsetDateTime>>(row, pre, col)?.map(truncate_to_micros))
}

pub(crate) fn role_of(raw: &str) -> anyhow::Result<OrgRole> {
    raw.parse::<OrgRole>().map_err(|_| anyhow!("unknown role {raw:?}"))
}
