//! Typed errors of the organization and invitation use cases. The app maps
//! each variant to a problem+json status and `code` in one place.

use crate::model::{QuotaExceeded, Refusal};
use shared_kernel::OrgRole;

/// A repository write that can lose a race or fail a guard.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The record changed since it was read (a compare-and-set, or an
    /// `Unchanged` guard, lost); re-read and decide again.
    #[error("the record changed concurrently")]
    Conflict,
    /// A `Remains` guard failed: the change would leave the organization
    /// without an active permanent admin.
    #[error("the organization would be left without a permanent admin")]
    LastAdmin,
    /// A `NotBlocked` guard failed.
    #[error("the user is blocked from the organization")]
    Blocked,
    /// A `Quota` guard failed.
    #[error(transparent)]
    Quota(#[from] QuotaExceeded),
    /// A name that must be unique is taken.
    #[error("the name is taken")]
    NameTaken,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// An organization, zone or membership use case failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OrgError {
    /// The caller has no active membership of the organization (or it expired).
    #[error("you are not a member of this organization")]
    NotMember,
    /// The caller's role is below the one required.
    #[error("this needs the {required} role in the organization")]
    Forbidden {
        /// The role the action needs.
        required: OrgRole,
    },
    /// A role the caller may not grant, remove or change.
    #[error("your role may not grant or remove the {0} role")]
    RoleNotAllowed(OrgRole),
    /// Outside the zones the caller's management is scoped to.
    #[error("this is outside the zones you manage")]
    OutOfScope,
    /// An end later than the caller's own membership's (or none, while theirs has one).
    #[error("you may not grant access beyond the end of your own membership")]
    BeyondOwnTerm,
    /// An end that is not in the future.
    #[error("expiresAt must be in the future")]
    EndInPast,
    /// The target membership does not exist (or grants nothing now).
    #[error("no such active member")]
    MemberNotFound,
    /// No user has this id.
    #[error("no such user")]
    UserNotFound,
    /// The organization does not exist.
    #[error("no such organization")]
    OrganizationNotFound,
    /// The zone does not exist in this organization.
    #[error("no such zone in this organization")]
    ZoneNotFound,
    /// A zone with this name (in any case) exists in the organization.
    #[error("a zone with this name already exists")]
    ZoneNameTaken,
    /// The organization must keep an active permanent admin.
    #[error("the organization needs at least one permanent admin")]
    LastAdmin,
    /// A quota is used up.
    #[error(transparent)]
    Quota(QuotaExceeded),
    /// Only superusers do this.
    #[error("only superusers may do this")]
    NotSuperuser,
    /// The membership kept changing under us.
    #[error("the membership changed concurrently; retry")]
    Conflict,
    /// Anything else, including an unavailable database.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<WriteError> for OrgError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Conflict => Self::Conflict,
            WriteError::LastAdmin => Self::LastAdmin,
            WriteError::NameTaken => Self::ZoneNameTaken,
            WriteError::Quota(q) => Self::Quota(q),
            // A removal never checks a block; a write that does is an accept.
            WriteError::Blocked => Self::Conflict,
            WriteError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

/// An invitation use case failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvitationError {
    /// Authorisation or membership rules.
    #[error(transparent)]
    Org(#[from] OrgError),
    /// No invitation for this token or id (or not visible to the caller).
    #[error("no such invitation")]
    NotFound,
    /// The invitation is not bound to the caller.
    #[error("this invitation is not addressed to you")]
    NotAddressee,
    /// Open links cannot be rejected.
    #[error("open invitation links cannot be rejected")]
    OpenLink,
    /// Only pending invitations change this way.
    #[error("the invitation is {0}, not pending")]
    NotPending(&'static str),
    /// An invitation bound to an e-mail or a user admits one person, once.
    #[error("an invitation bound to an e-mail or a user is single-use: maxUses must be 1")]
    BoundIsSingleUse,
    /// `userId` names nobody.
    #[error("there is no user with this id")]
    UnknownUser,
    /// The invitation kept changing under us.
    #[error("the invitation changed concurrently; retry")]
    Conflict,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<WriteError> for InvitationError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Conflict => Self::Conflict,
            WriteError::Unexpected(e) => Self::Unexpected(e),
            other => Self::Org(other.into()),
        }
    }
}

/// Accepting failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// The invitation refused the caller (logged as a failed attempt).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Unknown token, or an id that is not addressed to the caller.
    #[error("no such invitation")]
    NotFound,
    /// The caller's user row is gone.
    #[error("the signed-in user no longer exists")]
    UserGone,
    /// Too many concurrent changes to decide.
    #[error("the invitation changed concurrently; retry")]
    Conflict,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}
