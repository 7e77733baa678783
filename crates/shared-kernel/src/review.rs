//! What a reviewer tells the person whose submission they rejected, shared
//! by every review in Usher (KYC profiles, photo verifications): whether
//! they may try again, and an internal note only reviewers see.

crate::stored_enum! {
    /// Whether a rejected user may try again: `retry` or `final`, as stored and sent.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum Retry {
        /// They may submit again.
        Allowed = "retry",
        /// They may not submit again.
        Final = "final",
    }
}

/// A reviewer's internal note: at most 2000 characters as sent, trimmed, not
/// empty; seen by superusers only. Deserializes from a string through
/// [`ReviewNote::parse`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct ReviewNote(String);

/// Why a note is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a note is 1 to {max} characters", max = ReviewNote::MAX)]
pub struct ReviewNoteError;

impl ReviewNote {
    /// The longest note.
    pub const MAX: usize = 2000;

    /// Checks the length as sent, then trims.
    pub fn parse(raw: &str) -> Result<Self, ReviewNoteError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || raw.chars().count() > Self::MAX {
            return Err(ReviewNoteError);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The note.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ReviewNote {
    type Error = ReviewNoteError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}
