//! The `DiscordId` value type: a Discord snowflake, shared by the user
//! aggregate (which links one) and photo verification (which reads its avatar).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A Discord user id: a snowflake of 17 to 20 decimal digits that fits a u64.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DiscordId(String);

/// Why a string is not a Discord id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a Discord id is a snowflake: 17 to 20 decimal digits")]
pub struct DiscordIdError;

impl DiscordId {
    /// Checks a snowflake; a leading zero, signs, spaces and values beyond
    /// u64 are refused so one account has exactly one spelling.
    pub fn parse(raw: &str) -> Result<Self, DiscordIdError> {
        if !(17..=20).contains(&raw.len()) || !raw.bytes().all(|b| b.is_ascii_digit()) || raw.starts_with('0') {
            return Err(DiscordIdError);
        }
        raw.parse::<u64>().map_err(|_| DiscordIdError)?;
        Ok(Self(raw.to_owned()))
    }

    /// The snowflake as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The snowflake as a number (always fits: checked by `parse`).
    pub fn as_u64(&self) -> u64 {
        self.0.parse().unwrap_or_default()
    }
}

impl fmt::Display for DiscordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DiscordId {
    type Error = DiscordIdError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<DiscordId> for String {
    fn from(id: DiscordId) -> Self {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn snowflakes_of_seventeen_to_twenty_digits_are_accepted() {
        assert_eq!(DiscordId::parse("80351110224678912").unwrap().as_u64(), 80_351_110_224_678_912);
        assert!(DiscordId::parse("18446744073709551615").is_ok());
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in ["", "1234", "8035111022467891a", " 80351110224678912", "08035111022467891", "18446744073709551616"]
        {
            assert!(DiscordId::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_text_never_panics(raw in "\\PC{0,30}") {
            let _ = DiscordId::parse(&raw);
        }
    }
}
