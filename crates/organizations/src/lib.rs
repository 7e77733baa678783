//! Organizations, zones, invitations and memberships (seeds 002, 004, 003).
//!
//! - [`model`]: the records, their state enums, the value types, and every
//!   rule: what a member may do (roles and zone scope, their own term),
//!   the ordered checks of an acceptance, quotas, imports, and the plans
//!   (write, history, guards, effects) the adapter carries out.
//! - [`ports`]: the repositories (each use case's write is ONE method, one
//!   transaction), the token generator, the host's links and the `Notifier`.
//! - [`service`]: `OrganizationService`, `LogoService` and
//!   `InvitationService`, the use cases.
//! - [`error`]: their typed errors.
//! - `memory` (feature `memory`): `MemoryStore`, the in-memory adapter.
//! - `testing` (feature `testing`): the ports' conformance suite.
//!
//! # Features
//!
//! - **`memory`**: `memory::MemoryStore` implements both repositories over
//!   maps behind a `std::sync::Mutex`, with the SQL adapter's semantics
//!   (guards, compare-and-set, one active membership per user, history,
//!   effects, quotas, outbox leases, imports), each call atomic. It embeds
//!   the crate without a database: one process, state lost on exit. Users
//!   belong to the host: register them with `MemoryStore::add_user`.
//! - **`testing`**: `testing`, the conformance suite every adapter of the
//!   repositories runs (`organizations::conformance_tests!` writes one test
//!   per case); the SQL adapter runs it on SQLite and PostgreSQL, this
//!   crate on `MemoryStore`.
//! - **`mock`**: mockall mocks of every port (`MockOrganizationRepository`, …).
//!
//! # Embedding
//!
//! Create an organization, invite someone by e-mail, let them accept and
//! list the members, all in memory (with the `memory` feature):
//!
//! ```
//! # #[cfg(feature = "memory")]
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use organizations::memory::MemoryStore;
//! use organizations::{
//!     ClientInfo, InvitationId, InvitationLinks, InvitationService, InvitationToken, LogNotifier, MemberFilter,
//!     Name, NewInvitation, OrganizationService, OsTokenGenerator, QuotaPolicy,
//! };
//! use shared_kernel::{Actor, EmailAddress, OrgRole, PageRequest, PlatformRole, SystemClock};
//! use std::sync::Arc;
//!
//! /// Where the host's UI opens an invitation.
//! struct Links;
//!
//! impl InvitationLinks for Links {
//!     fn token_link(&self, token: &InvitationToken) -> String {
//!         format!("https://example.test/invite#token={}", token.expose())
//!     }
//!
//!     fn invitation_link(&self, id: InvitationId) -> String {
//!         format!("https://example.test/invite?invitation={id}")
//!     }
//! }
//!
//! let store = MemoryStore::new();
//! let (orgs, clock) = (Arc::new(store.clone()), Arc::new(SystemClock));
//! let organizations = OrganizationService::new(orgs.clone(), clock.clone(), QuotaPolicy::default());
//! let invitations = InvitationService::new(
//!     orgs,
//!     Arc::new(store.clone()),
//!     Arc::new(OsTokenGenerator),
//!     Arc::new(LogNotifier),
//!     clock,
//!     Arc::new(Links),
//!     QuotaPolicy::default(),
//! );
//!
//! // Users belong to the host; the store only needs their name and e-mail.
//! let ada_email = EmailAddress::parse("ada@example.test")?;
//! let bob_email = EmailAddress::parse("bob@example.test")?;
//! let ada = Actor { user_id: store.add_user("Ada", &ada_email, true), role: PlatformRole::User };
//! let bob = Actor { user_id: store.add_user("Bob", &bob_email, true), role: PlatformRole::User };
//!
//! let org = organizations.create(&ada, &Name::parse("Acme School")?).await?;
//! let invite = NewInvitation { email: Some(bob_email), ..NewInvitation::link(org.id, OrgRole::Member) };
//! let created = invitations.create(&ada, invite).await?;
//! invitations.accept_id(&bob, created.invitation.id, &ClientInfo::default()).await?;
//!
//! let members = organizations.members(&ada, org.id, MemberFilter::default(), &PageRequest::default()).await?;
//! let names: Vec<_> = members.items.iter().map(|m| (m.display_name.as_str(), m.membership.role)).collect();
//! assert_eq!(names, [("Bob", OrgRole::Member), ("Ada", OrgRole::Admin)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]

pub mod error;
#[cfg(feature = "memory")]
pub mod memory;
pub mod model;
pub mod ports;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{AcceptError, InvitationError, OrgError, WriteError};
pub use model::*;
pub use ports::{
    Block, InvitationLinks, InvitationRepository, LogNotifier, Notifier, OrganizationRepository, OsTokenGenerator,
    TokenGenerator,
};
#[cfg(any(test, feature = "mock"))]
pub use ports::{MockInvitationLinks, MockInvitationRepository, MockNotifier, MockOrganizationRepository};
pub use service::{
    CreatedInvitation, ImportOutcome, ImportReport, InvitationService, LogoError, LogoService, OrganizationEvents,
    OrganizationService, OrganizationView, Preview,
};
