//! The `users` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub(crate) struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subject: String,
    pub email: String,
    pub email_verified: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: String,
    pub username: String,
    pub avatar_url: Option<String>,
    pub avatar_key: Option<String>,
    pub current_organization_id: Option<Uuid>,
    pub manual_status: Option<i16>,
    pub google_calendar_connected: bool,
    pub google_calendar_enabled: bool,
    pub platform_role: String,
    pub discord_id: Option<String>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
