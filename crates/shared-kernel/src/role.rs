//! Organization roles and their order.

use serde::{Deserialize, Serialize};

crate::stored_enum! {
    /// A role inside an organization. The derived order is the grant order:
    /// `guest < member < moderator < admin` (`ALL` lists them lowest first).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum OrgRole: OrgRoleError {
        /// A visitor, often time-bound.
        Guest = "guest",
        /// The default role.
        Member = "member",
        /// Invites and removes guests and members.
        Moderator = "moderator",
        /// Owns the organization.
        Admin = "admin",
    }
}

impl OrgRole {
    /// Whether this role is at least `required`.
    pub fn at_least(self, required: Self) -> bool {
        self >= required
    }
}

/// Why a string is not an organization role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a role is one of guest, member, moderator, admin")]
pub struct OrgRoleError;

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
