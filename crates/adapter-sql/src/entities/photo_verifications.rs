//! The `photo_verifications` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "photo_verifications")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: i64,
    pub discord_id: Option<String>,
    pub previous_profile_url: Option<String>,
    pub previous_discord_url: Option<String>,
    pub profile_url: String,
    pub profile_key: String,
    pub profile_sha256: String,
    pub profile_approved_by: Option<i64>,
    pub profile_approved_at: Option<TimeDateTimeWithTimeZone>,
    pub discord_url: Option<String>,
    pub discord_avatar_hash: Option<String>,
    pub discord_fetched_at: Option<TimeDateTimeWithTimeZone>,
    pub discord_approved_by: Option<i64>,
    pub discord_approved_at: Option<TimeDateTimeWithTimeZone>,
    pub status: String,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub retry: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<TimeDateTimeWithTimeZone>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
