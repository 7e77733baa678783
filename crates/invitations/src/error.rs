//! Typed errors of the organization and invitation use cases. The app maps
//! each variant to a problem+json status and `code` in one place.

use crate::model::Refusal;
use shared_kernel::OrgRole;

/// A repository write that can lose a race.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The record changed since it was read (compare-and-set lost); re-read and decide again.
    #[error("the record changed concurrently")]
    Conflict,
    /// The change would leave the organization without an active admin.
    #[error("the organization would be left without an admin")]
    LastAdmin,
    /// A name that must be unique is taken.
    #[error("the name is taken")]
    NameTaken,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// An organization, zone or membership use case failed.
#[derive(Debug, thiserror::Error)]
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
    /// A role above the caller's own, or one a moderator may not grant/remove.
    #[error("your role may not grant or remove the {0} role")]
    RoleNotAllowed(OrgRole),
    /// The target membership does not exist (or is not active).
    #[error("no such active member")]
    MemberNotFound,
    /// The zone does not exist in this organization.
    #[error("no such zone in this organization")]
    ZoneNotFound,
    /// A zone with this name exists in the organization.
    #[error("a zone with this name already exists")]
    ZoneNameTaken,
    /// The last admin can be neither demoted, removed nor leave.
    #[error("the organization needs at least one admin")]
    LastAdmin,
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
            WriteError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

/// An invitation use case failed.
#[derive(Debug, thiserror::Error)]
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
    /// An input rule (e-mail, limits) failed.
    #[error("{0}")]
    Invalid(String),
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
pub enum AcceptError {
    /// The invitation refused the caller (logged as a failed attempt).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Unknown token or id.
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
