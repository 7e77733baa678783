//! Organizations, zones, invitations and memberships (seeds 002, 004, 003).
//!
//! - [`model`]: the records (`Organization`, `Zone`, `Membership`,
//!   `MembershipHistory`, `Invitation`, `Acceptance`), their state enums, the
//!   invitation token and the pure transitions: who may grant or remove which
//!   role, and the ordered checks of an acceptance.
//! - [`ports`]: the repositories (accepting is ONE method, one transaction),
//!   the token generator and the `Notifier`.
//! - [`service`]: `OrganizationService` and `InvitationService`, the use cases.
//! - [`error`]: their typed errors.
#![forbid(unsafe_code)]

pub mod error;
pub mod model;
pub mod ports;
pub mod service;

pub use error::{AcceptError, InvitationError, OrgError, WriteError};
pub use model::*;
pub use ports::{
    InvitationMail, InvitationRepository, LogNotifier, Notifier, OrganizationRepository, OsTokenGenerator, OutboxMail,
    TokenGenerator,
};
#[cfg(any(test, feature = "mock"))]
pub use ports::{MockInvitationRepository, MockNotifier, MockOrganizationRepository};
pub use service::{
    CreatedInvitation, InvitationService, LogoError, LogoService, NewInvitation, OrganizationService, Preview,
};
