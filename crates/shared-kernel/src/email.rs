//! E-mail addresses, normalised once so comparisons are plain string equality.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A syntactically plausible e-mail address, trimmed and lower-cased.
///
/// Deliverability is the identity provider's business; this type only keeps
/// obvious garbage (no `@`, spaces, control characters, over 254 bytes) out.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

/// Why a string is not an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Empty after trimming.
    #[error("the e-mail address is empty")]
    Empty,
    /// Longer than RFC 5321 allows.
    #[error("the e-mail address is longer than 254 characters")]
    TooLong,
    /// Not of the form `local@domain`.
    #[error("the e-mail address must look like name@example.com")]
    Malformed,
}

impl EmailAddress {
    /// Trims, lower-cases and checks the shape `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        // Lower-case first: case folding can change the length (`Ⱥ` → `ⱥ`
        // grows by a byte), and the limits apply to what is stored.
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '@';
        if local.is_empty()
            || local.len() > 64
            || domain.is_empty()
            || local.chars().any(|c| c.is_whitespace() || c.is_control())
            || domain.chars().any(bad_char)
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(EmailError::Malformed);
        }
        Ok(Self(s))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the last `@`.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or(self.0.as_str(), |(local, _)| local)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        let e = EmailAddress::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ada.lovelace@example.com");
        assert_eq!(e.local_part(), "ada.lovelace");
    }

    #[test]
    fn obvious_garbage_is_refused() {
        for bad in [
            "",
            "   ",
            "ada",
            "@example.com",
            "ada@",
            "ada@localhost",
            "a da@x.io",
            "ada@x.io.",
            "ada@.io",
            "a\u{0}@x.io",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(EmailAddress::parse(&format!("{}@x.io", "a".repeat(300))), Err(EmailError::TooLong));
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_is_idempotent(raw in "\\PC{0,80}") {
            if let Ok(e) = EmailAddress::parse(&raw) {
                prop_assert_eq!(EmailAddress::parse(e.as_str()), Ok(e.clone()));
            }
        }
    }
}
