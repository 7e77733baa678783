//! The organization and invitation ports' conformance suite
//! (`organizations::testing`) over the SQL repositories, on SQLite and on
//! PostgreSQL: the same calls, the same answers as every other adapter. It
//! checks that the adapter carries out what the model decides (plans,
//! guards, effects) in one transaction each. Every case gets a database of
//! its own.

use adapter_sql::{
    Database, PoolSettings, SqlEventLog, SqlInvitationRepository, SqlOrganizationRepository, SqlUserRepository,
};
use async_trait::async_trait;
use organizations::OrganizationId;
use organizations::testing::{Accounts, Subject};
use shared_kernel::{EmailAddress, PlatformRole, UserId};
use std::sync::Arc;
use test_support::postgres::{PgCluster, TestDatabase};
use time::macros::datetime;
use users::{DisplayName, Identity, NewUser, UserRepository, Username};

/// Accounts in the `users` table, made as sign-in makes them.
struct SqlAccounts(SqlUserRepository);

#[async_trait]
impl Accounts for SqlAccounts {
    async fn create(&self, name: &str, email: &EmailAddress, verified: bool) -> anyhow::Result<UserId> {
        // The name's ASCII letters and digits: a display name like "Grace Hopper" is no username.
        let username: String = name.to_ascii_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
        let new = NewUser {
            identity: Identity::new(&format!("idp|{name}"), Some(email.clone()), verified, None, None, Some(name))?,
            email: email.clone(),
            display_name: DisplayName::parse(name)?,
            username: Username::parse(&username)?,
            platform_role: PlatformRole::User,
            now: datetime!(2026-06-14 09:00 UTC),
        };
        Ok(self.0.create(&new).await?.id)
    }

    async fn current_organization(&self, user: UserId) -> anyhow::Result<Option<OrganizationId>> {
        let user = self.0.find(user).await?.ok_or_else(|| anyhow::anyhow!("no user {user}"))?;
        Ok(user.current_organization_id.map(OrganizationId::from_uuid))
    }
}

/// The repositories over a migrated database.
async fn subject(url: &str) -> Subject {
    let db = Database::connect(url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    Subject {
        organizations: Arc::new(SqlOrganizationRepository::new(db.clone())),
        invitations: Arc::new(SqlInvitationRepository::new(db.clone())),
        events: Arc::new(SqlEventLog::new(db.clone())),
        accounts: Arc::new(SqlAccounts(SqlUserRepository::new(db))),
    }
}

/// A fresh SQLite file, kept until the test ends.
async fn sqlite() -> (Subject, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    (subject(&url).await, dir)
}

/// A fresh PostgreSQL database of the shared throwaway cluster, dropped when the test ends.
async fn postgres() -> (Subject, TestDatabase) {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    (subject(test_db.url()).await, test_db)
}

mod on_sqlite {
    organizations::conformance_tests!(super::sqlite());
}

mod on_postgres {
    organizations::conformance_tests!(super::postgres());
}
