//! Schema-only types: the components the document uses for values whose
//! Rust type is a domain type without utoipa (roles, statuses) and the
//! model's input rules as JSON Schema ([`rules`]). Routes name them in
//! `#[schema(value_type = ...)]`; nothing here depends on a route.

pub(crate) mod rules;

// The enums below are schemas only: the handlers read and write the
// domain's own enums, whose crates do not depend on utoipa. Each has exactly
// the variants and lowercase serde names of the enum it stands for.

/// A role inside an organization, lowest grant first: `guest < member < moderator < admin`.
#[derive(utoipa::ToSchema)]
#[schema(as = OrgRole, rename_all = "lowercase")]
#[allow(dead_code, reason = "a schema only: the handlers read and write shared_kernel::OrgRole")]
pub enum OrgRoleSchema {
    /// A visitor, often time-bound.
    Guest,
    /// The default role.
    Member,
    /// Invites and removes guests and members.
    Moderator,
    /// Owns the organization.
    Admin,
}

/// Internal invitations may go to members; external ones are refused to them.
#[derive(utoipa::ToSchema)]
#[schema(as = InvitationKind, rename_all = "lowercase")]
#[allow(dead_code, reason = "a schema only: the handlers read and write organizations::InvitationKind")]
pub enum InvitationKindSchema {
    /// May go to members (the default).
    Internal,
    /// Only for people not yet in the organization.
    External,
}

/// An invitation's status as read at a given instant (`expired` once past `expiresAt`).
#[derive(utoipa::ToSchema)]
#[schema(as = InvitationStatus, rename_all = "lowercase")]
#[allow(dead_code, reason = "a schema only: the handlers read and write organizations::InvitationState")]
pub enum InvitationStatusSchema {
    /// Usable.
    Pending,
    /// Used up.
    Accepted,
    /// Declined.
    Rejected,
    /// Withdrawn.
    Revoked,
    /// Past `expiresAt`.
    Expired,
}

/// A user's platform-wide role.
#[derive(utoipa::ToSchema)]
#[schema(as = PlatformRole, rename_all = "lowercase")]
#[allow(dead_code, reason = "a schema only: the handlers read and write shared_kernel::PlatformRole")]
pub enum PlatformRoleSchema {
    /// Everyone.
    User,
    /// Reviews, administers users and organizations.
    Superuser,
}
