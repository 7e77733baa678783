//! Identifier newtypes.
//!
//! Users keep seed 003's int64 id (sent as a string on the wire); every other
//! record gets a UUIDv7 newtype made by [`uuid_id!`](crate::uuid_id), so ids
//! sort by creation time and a `ZoneId` can never be passed as an `OrganizationId`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The canonical user id: a database-assigned int64, stringified at the wire boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(i64);

impl UserId {
    /// Wraps a raw database id.
    pub const fn new(raw: i64) -> Self {
        Self(raw)
    }

    /// The raw int64 value.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a string is not a user id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a user id is a positive decimal int64")]
pub struct UserIdError;

impl FromStr for UserId {
    type Err = UserIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Only plain ASCII digits: "+1", " 1" and "01"-style padding of a
        // different id are all refused so one user has one spelling.
        if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) || s.starts_with('0') {
            return Err(UserIdError);
        }
        s.parse::<i64>().map(Self).map_err(|_| UserIdError)
    }
}

/// Reading a [`UserId`] in its wire form, the decimal string (`"42"`),
/// through its `FromStr`: `#[serde(deserialize_with =
/// "shared_kernel::ids::decimal::deserialize")]`. `UserId`'s own serde
/// stays the bare int64 the stores keep.
pub mod decimal {
    use super::UserId;
    use serde::{Deserialize as _, Deserializer};

    /// A user id from its decimal string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UserId, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }

    /// An optional user id: `null` is `None` (pair with `#[serde(default)]`
    /// so an absent field is `None` too).
    pub mod option {
        use super::UserId;
        use serde::{Deserialize as _, Deserializer};

        /// A user id from its decimal string, or `None` for `null`.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<UserId>, D::Error> {
            Option::<String>::deserialize(d)?.map(|s| s.parse()).transpose().map_err(serde::de::Error::custom)
        }
    }
}

/// Declares a UUIDv7 id newtype with `new()`, `from_uuid`, `as_uuid`, `Display` and `FromStr`.
#[macro_export]
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(::uuid::Uuid);

        impl $name {
            /// A new time-ordered (UUIDv7) id.
            pub fn new() -> Self {
                Self(::uuid::Uuid::now_v7())
            }

            /// Wraps an existing UUID (for example one read from the database).
            pub const fn from_uuid(uuid: ::uuid::Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> ::uuid::Uuid {
                self.0
            }
        }

        impl ::core::default::Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = ::uuid::Error;

            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                ::uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    uuid_id!(
        /// A test id.
        ThingId
    );

    #[test]
    fn a_user_id_round_trips_through_its_decimal_string() {
        let id: UserId = "9007199254740993".parse().unwrap();
        assert_eq!(id.get(), 9_007_199_254_740_993);
        assert_eq!(id.to_string(), "9007199254740993");
    }

    #[test]
    fn user_ids_with_signs_spaces_or_padding_are_refused() {
        for bad in ["", "-1", "+1", " 1", "01", "1.0", "99999999999999999999", "abc"] {
            assert!(bad.parse::<UserId>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_user_id_on_the_wire_is_its_decimal_string() {
        #[derive(Debug, serde::Deserialize)]
        struct Body {
            #[serde(deserialize_with = "decimal::deserialize")]
            id: UserId,
            #[serde(default, deserialize_with = "decimal::option::deserialize")]
            by: Option<UserId>,
        }
        let body: Body = serde_json::from_str(r#"{"id":"42","by":null}"#).unwrap();
        assert_eq!((body.id.get(), body.by), (42, None));
        let body: Body = serde_json::from_str(r#"{"id":"42"}"#).unwrap();
        assert_eq!(body.by, None);
        let body: Body = serde_json::from_str(r#"{"id":"1","by":"7"}"#).unwrap();
        assert_eq!(body.by, Some(UserId::new(7)));
        let refused = serde_json::from_str::<Body>(r#"{"id":"01"}"#).unwrap_err().to_string();
        assert!(refused.starts_with(&UserIdError.to_string()), "{refused}");
        assert!(serde_json::from_str::<Body>(r#"{"id":42}"#).is_err(), "a number is not the wire form");
    }

    #[test]
    fn uuid_ids_are_version_seven_and_serialise_as_plain_strings() {
        let id = ThingId::new();
        assert_eq!(id.as_uuid().get_version_num(), 7);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(json.trim_matches('"').parse::<ThingId>().unwrap(), id);
        assert_eq!(ThingId::from_uuid(id.as_uuid()), id);
    }
}
