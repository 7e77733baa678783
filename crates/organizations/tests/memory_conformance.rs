//! The ports' conformance suite on the in-memory adapter: the same cases
//! the SQL adapter passes on SQLite and PostgreSQL.

use async_trait::async_trait;
use organizations::OrganizationId;
use organizations::memory::MemoryStore;
use organizations::testing::{Accounts, Subject};
use shared_kernel::{EmailAddress, UserId};
use std::sync::Arc;

/// The store's own accounts.
struct MemoryAccounts(MemoryStore);

#[async_trait]
impl Accounts for MemoryAccounts {
    async fn create(&self, name: &str, email: &EmailAddress, verified: bool) -> anyhow::Result<UserId> {
        Ok(self.0.add_user(name, email, verified))
    }

    async fn current_organization(&self, user: UserId) -> anyhow::Result<Option<OrganizationId>> {
        Ok(self.0.current_organization(user))
    }
}

/// A fresh, empty store; nothing to keep alive.
async fn memory() -> (Subject, ()) {
    let store = MemoryStore::new();
    let subject = Subject {
        organizations: Arc::new(store.clone()),
        invitations: Arc::new(store.clone()),
        accounts: Arc::new(MemoryAccounts(store)),
    };
    (subject, ())
}

organizations::conformance_tests!(memory());
