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
#![forbid(unsafe_code)]

pub mod error;
pub mod model;
pub mod ports;
pub mod service;

pub use error::{AcceptError, InvitationError, OrgError, WriteError};
pub use model::*;
pub use ports::{
    Block, InvitationLinks, InvitationRepository, LogNotifier, Notifier, OrganizationRepository, OsTokenGenerator,
    TokenGenerator,
};
#[cfg(any(test, feature = "mock"))]
pub use ports::{MockInvitationLinks, MockInvitationRepository, MockNotifier, MockOrganizationRepository};
pub use service::{
    CreatedInvitation, ImportOutcome, ImportReport, InvitationService, LogoError, LogoService, OrganizationService,
    OrganizationView, Preview,
};
