//! The use cases. Each loads what the model needs, asks the model, and
//! hands the adapter the resulting plan; when a plan's compare-and-set or
//! `Unchanged` guard loses a race, it reads again and decides again.
//!
//! - [`OrganizationService`] (`organizations`): organizations, zones,
//!   members, blocks, history, the sidebar, the membership sweeper and a
//!   superuser's admin appointment.
//! - [`LogoService`] (`logo`): the organization logo's two-step upload.
//! - [`InvitationService`] (`invitations`, `accept`, `outbox`, `imports`):
//!   invitations, accepting, their e-mails and legacy imports.

mod accept;
mod imports;
mod invitations;
mod logo;
mod organizations;
mod outbox;

pub use imports::{ImportOutcome, ImportReport};
pub use invitations::{CreatedInvitation, InvitationService, Preview};
pub use logo::{LogoError, LogoService};
pub use organizations::{OrganizationService, OrganizationView};

/// How often a use case re-reads and decides again after losing a
/// compare-and-set. Racing accepts of one link lose once per winner, so this
/// bounds the contenders one link can serve at once.
const MAX_ATTEMPTS: usize = 100;
