//! Who is acting: an authenticated user and the platform role stored for them.

use crate::ids::UserId;
use serde::{Deserialize, Serialize};

crate::stored_enum! {
    /// The platform-wide role. It lives in the database and never comes from a token.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
    #[serde(rename_all = "lowercase")]
    pub enum PlatformRole: PlatformRoleError {
        /// An ordinary signed-in user.
        #[default]
        User = "user",
        /// May review photo verifications and KYC profiles and administer users.
        Superuser = "superuser",
    }
}

/// Why a string is not a platform role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a platform role is `user` or `superuser`")]
pub struct PlatformRoleError;

/// The authenticated caller of a use case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The caller's user id.
    pub user_id: UserId,
    /// The caller's platform role, as stored at the time of the request.
    pub role: PlatformRole,
}

impl Actor {
    /// Whether the caller is a superuser.
    pub const fn is_superuser(&self) -> bool {
        matches!(self.role, PlatformRole::Superuser)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_roles_round_trip_through_their_names() {
        for role in [PlatformRole::User, PlatformRole::Superuser] {
            assert_eq!(role.as_str().parse::<PlatformRole>(), Ok(role));
        }
        assert!("admin".parse::<PlatformRole>().is_err());
    }
}
