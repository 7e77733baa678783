//! Typed errors of the profile use cases. The app maps each variant to a
//! problem+json status and code in one place. The refusals the model's
//! transitions return live with them (so the model imports nothing from
//! here): [`ProfileError`] in `model`, [`InvalidFields`] in `fields`; they
//! are re-exported here.

pub use crate::fields::{FieldProblem, InvalidFields};
pub use crate::model::ProfileError;

/// Inserting a profile failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateProfileError {
    /// The partial unique index on open profiles refused it.
    #[error("the user already has a drafted or submitted profile")]
    OpenProfileExists,
    /// The user row does not exist.
    #[error("the user does not exist")]
    UserMissing,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<CreateProfileError> for ProfileError {
    fn from(e: CreateProfileError) -> Self {
        match e {
            CreateProfileError::OpenProfileExists => Self::OpenProfileExists,
            CreateProfileError::UserMissing => Self::UserNotFound,
            CreateProfileError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}
