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
        events: Arc::new(store.clone()),
        accounts: Arc::new(MemoryAccounts(store)),
    };
    (subject, ())
}

organizations::conformance_tests!(memory());

/// A logo ticket sets a logo once: the store marks it used in the shared
/// ticket repository (as the SQL adapter does in the same transaction), a
/// second use or an unknown ticket is a conflict, and a failed write leaves
/// the ticket issued.
#[tokio::test]
async fn setting_a_logo_uses_its_ticket_in_the_shared_ticket_repository_once() {
    use image_upload::memory::MemoryUploadTicketRepository;
    use image_upload::testing::avatar_ticket;
    use image_upload::{ObjectKey, TicketState, UploadTicketRepository as _};
    use organizations::{Name, OrganizationRepository, OrganizationService, QuotaPolicy, WriteError};
    use shared_kernel::{Actor, FixedClock, PlatformRole};
    use time::macros::datetime;

    let now = datetime!(2026-06-14 12:00 UTC);
    let tickets = Arc::new(MemoryUploadTicketRepository::new());
    let store = MemoryStore::with_tickets(Arc::clone(&tickets));
    let founder = store.add_user("Ada", &EmailAddress::parse("ada@example.com").unwrap(), true);
    let actor = Actor { user_id: founder, role: PlatformRole::User };
    let service =
        OrganizationService::new(Arc::new(store.clone()), Arc::new(FixedClock::at(now)), QuotaPolicy::default());
    let org = service.create(&actor, &Name::parse("Acme").unwrap()).await.unwrap();

    let ticket = avatar_ticket(founder, now);
    tickets.insert_within_limit(&ticket, now - time::Duration::days(1), 10).await.unwrap().unwrap();
    let key = ObjectKey::parse(&format!("logos/{}/a.png", org.id)).unwrap();

    let missing = OrganizationId::new();
    let failed = store.set_logo(missing, ticket.id, &key, "https://cdn/a.png", now, founder).await;
    assert!(failed.is_err(), "an unknown organization is refused");
    assert_eq!(tickets.state(ticket.id), Some(TicketState::Issued), "a failed write leaves the ticket issued");

    let previous = store.set_logo(org.id, ticket.id, &key, "https://cdn/a.png", now, founder).await.unwrap();
    assert_eq!(previous, None);
    assert_eq!(tickets.state(ticket.id), Some(TicketState::Used), "the ticket is used in the shared repository");
    let again = store.set_logo(org.id, ticket.id, &key, "https://cdn/a.png", now, founder).await;
    assert!(matches!(again, Err(WriteError::Conflict)), "a ticket sets a logo once: {again:?}");
    let unknown = store.set_logo(org.id, image_upload::TicketId::new(), &key, "https://cdn/b.png", now, founder).await;
    assert!(
        matches!(unknown, Err(WriteError::Conflict)),
        "a ticket the repository never issued is refused: {unknown:?}"
    );
}
