//! Organization roles and their order.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A role inside an organization. The derived order is the grant order:
/// `guest < member < moderator < admin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    /// A visitor, often time-bound.
    Guest,
    /// The default role.
    Member,
    /// Invites and removes guests and members.
    Moderator,
    /// Owns the organization.
    Admin,
}

impl OrgRole {
    /// Every role, lowest first.
    pub const ALL: [Self; 4] = [Self::Guest, Self::Member, Self::Moderator, Self::Admin];

    /// The stable lower-case name used in storage and on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Guest => "guest",
            Self::Member => "member",
            Self::Moderator => "moderator",
            Self::Admin => "admin",
        }
    }

    /// Whether this role is at least `required`.
    pub fn at_least(self, required: Self) -> bool {
        self >= required
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not an organization role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a role is one of guest, member, moderator, admin")]
pub struct OrgRoleError;

impl FromStr for OrgRole {
    type Err = OrgRoleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or(OrgRoleError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_from_guest_to_admin() {
        assert!(OrgRole::Guest < OrgRole::Member);
        assert!(OrgRole::Member < OrgRole::Moderator);
        assert!(OrgRole::Moderator < OrgRole::Admin);
        assert!(OrgRole::Admin.at_least(OrgRole::Moderator));
        assert!(!OrgRole::Member.at_least(OrgRole::Moderator));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in OrgRole::ALL {
            assert_eq!(role.as_str().parse::<OrgRole>(), Ok(role));
        }
        assert!("owner".parse::<OrgRole>().is_err());
    }
}
