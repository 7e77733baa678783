//! Typed errors of the profile use cases. The app maps each variant to a
//! problem+json status and code in one place.

use crate::fields::{Field, FieldError};

/// One or more fields failed validation (422): each with its code
/// (`first_name.invalid`, `metadata.invalid_format`, `country.missing`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid profile fields: {}", .0.iter().map(|p| p.code).collect::<Vec<_>>().join(", "))]
pub struct InvalidFields(Vec<FieldProblem>);

/// One field's problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    /// Which field.
    pub field: Field,
    /// The stable code.
    pub code: &'static str,
    /// A human explanation.
    pub message: &'static str,
}

impl InvalidFields {
    /// From value-type failures.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Self(
            errors
                .into_iter()
                .map(|e| FieldProblem { field: e.field, code: e.field.invalid_code(), message: e.message })
                .collect(),
        )
    }

    /// Fields required on submit but absent.
    pub fn missing(fields: Vec<Field>) -> Self {
        Self(
            fields
                .into_iter()
                .map(|field| FieldProblem {
                    field,
                    code: field.missing_code(),
                    message: "is required to submit the profile (profiles.required_on_submit)",
                })
                .collect(),
        )
    }

    /// The problems, in record order.
    pub fn problems(&self) -> &[FieldProblem] {
        &self.0
    }

    /// The codes, in record order.
    pub fn codes(&self) -> Vec<&'static str> {
        self.0.iter().map(|p| p.code).collect()
    }
}

/// A profile use case failed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Fields failed validation (422 with per-field codes).
    #[error(transparent)]
    Invalid(#[from] InvalidFields),
    /// The user already has a drafted or submitted profile (409 `resource.profile.exists`).
    #[error("the user already has a drafted or submitted profile")]
    OpenProfileExists,
    /// The caller has no drafted profile to edit (404 `resource.profile.doesnt_exist_or_not_editable`).
    #[error("there is no drafted profile to edit")]
    NotEditable,
    /// No such profile, or it is not submitted (409 `admin.profiles.doesnt_exist_or_not_editable`).
    #[error("the profile does not exist or is not waiting for a decision")]
    NotDecidable,
    /// No profile with this id (404 `admin.profiles.doesnt_exist`).
    #[error("no profile with this id")]
    ProfileNotFound,
    /// The user named does not exist (404 `admin.user.doesnt_exist`).
    #[error("the user does not exist")]
    UserNotFound,
    /// The deciding superuser authored the profile while double verification
    /// is on (403 `admin.profiles.second_admin_approval`).
    #[error("the author of a profile may not decide it; a second superuser must")]
    SecondAdminApproval,
    /// A superuser tried to decide a profile of their own (403 `admin.profiles.own_profile`).
    #[error("no superuser may decide a profile of their own")]
    OwnProfile,
    /// Another decision or change won the race for this profile
    /// (409 `admin.profiles.conflict`, with the profile as it is now).
    #[error("another decision changed this profile first")]
    Conflict(Box<crate::model::Profile>),
    /// The user's last profile was rejected as final: they may not open
    /// another (403 `resource.profile.rejected_final`).
    #[error("your last profile was rejected and may not be replaced; contact an administrator")]
    RejectedFinal,
    /// The caller is not a superuser (403).
    #[error("only superusers may do this")]
    Forbidden,
    /// Anything else, including an unavailable database.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Inserting a profile failed.
#[derive(Debug, thiserror::Error)]
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
