//! Records, state enums, value types and every rule of organizations,
//! invitations and memberships. A newcomer finds each rule here and nowhere
//! else: the services load, ask the model, and hand the adapter a plan.
//!
//! - [`ids`]: the id newtypes.
//! - [`names`]: organization and zone names, their case-free keys, slugs.
//! - [`organization`]: organizations and zones.
//! - [`membership`]: memberships, how each reads at an instant, history.
//! - [`authority`]: what a member may do: roles they grant, zones they
//!   manage, how long what they grant may last.
//! - [`plan`]: a membership change as data — the write, the history row,
//!   the guards the database re-checks and the effects it carries out.
//! - [`changes`]: the membership changes (create, role/zones/expiry update,
//!   remove, block, leave, expire, appoint) that produce plans.
//! - [`invitation`]: invitations, their input limits and transitions.
//! - [`accept`]: who accepts, why an acceptance is refused, and the plan of
//!   one that is not.
//! - [`acceptance`]: the acceptance log.
//! - [`events`]: the event of each change, with the resource as it now stands.
//! - [`quota`]: per-user and per-organization quotas.
//! - [`outbox`]: invitation e-mails, when one is sent and when it is retried.
//! - [`import`]: legacy membership imports (FiO "Case 1").
//! - [`lists`]: filters, members, the sidebar.

use std::fmt;

mod accept;
mod acceptance;
mod authority;
mod changes;
pub mod events;
mod ids;
mod import;
mod invitation;
mod lists;
mod membership;
mod names;
mod organization;
mod outbox;
mod plan;
mod quota;

pub use accept::*;
pub use acceptance::*;
pub use authority::*;
pub use changes::*;
pub use ids::*;
pub use import::*;
pub use invitation::*;
pub use lists::*;
pub use membership::*;
pub use names::*;
pub use organization::*;
pub use outbox::*;
pub use plan::*;
pub use quota::*;

/// Formats a list of values joined by `, `.
pub(crate) fn joined<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}
