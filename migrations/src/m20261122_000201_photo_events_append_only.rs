//! Makes the photo verification event log append-only in the database: an
//! UPDATE of an entry is refused, whoever issues it. (Deletes stay possible so
//! that deleting a user cascades; nothing in the service deletes entries.)

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

// Each statement sits on one line: `run_script` splits on ";\n".
const POSTGRES: &str = r"
CREATE FUNCTION photo_verification_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'photo_verification_events is append-only'; END $$;
CREATE TRIGGER photo_verification_events_no_update BEFORE UPDATE ON photo_verification_events FOR EACH ROW EXECUTE FUNCTION photo_verification_events_append_only()
";

const SQLITE: &str = r"
CREATE TRIGGER photo_verification_events_no_update BEFORE UPDATE ON photo_verification_events BEGIN SELECT RAISE(ABORT, 'photo_verification_events is append-only'); END
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, POSTGRES, SQLITE).await
    }
}
