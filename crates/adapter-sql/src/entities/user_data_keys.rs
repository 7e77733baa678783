//! `user_data_keys`: each user's wrapped data key; `wrapped` is NULL once
//! an erasure destroyed it (the row stays so no new key is ever made).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_data_keys")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub wrapped: Option<String>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub destroyed_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
