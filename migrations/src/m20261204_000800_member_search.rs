//! Indexes for the members search (`POST /organization/members/list` with
//! `search`): the display name and the e-mail folded as the model folds
//! them, so a prefix is a range scan on either, whatever the number of
//! users. The expressions are exactly those `adapter-sql`'s
//! `backend::ascii_folded` renders: `COLLATE "C"` on PostgreSQL keeps the
//! fold ASCII-only and the order bytewise under any database locale.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const POSTGRES: &str = r#"
CREATE INDEX users_display_name_search_idx ON users ((lower(display_name COLLATE "C")));
CREATE INDEX users_email_search_idx ON users ((lower(email COLLATE "C")))
"#;

const SQLITE: &str = "
CREATE INDEX users_display_name_search_idx ON users (lower(display_name));
CREATE INDEX users_email_search_idx ON users (lower(email))
";

const DOWN: &str = "
DROP INDEX users_display_name_search_idx;
DROP INDEX users_email_search_idx
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, POSTGRES, SQLITE).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN, DOWN).await
    }
}
