//! KYC profiles (seed 001, openware barong's profiles, with its gaps fixed):
//! submit, verify with four eyes, labels and levels.
//!
//! - [`fields`]: the value types every profile field parses into, with
//!   barong's error codes (`first_name.invalid`, `metadata.invalid_format`).
//! - [`model`]: the `Profile` record and its state machine
//!   (drafted → submitted → verified | rejected; a draft may be withdrawn),
//!   decisions with reason, internal note and retry/final, labels, levels.
//! - [`ports`]: `ProfileRepository` and `PiiCipher` (personal data is sealed at rest).
//! - [`service`]: the user's and the superusers' use cases.
//! - [`error`]: the typed errors.
#![forbid(unsafe_code)]

mod countries;
pub mod error;
pub mod fields;
pub mod model;
pub mod ports;
pub mod service;

pub use error::{CreateProfileError, FieldProblem, InvalidFields, ProfileError};
pub use fields::{Address, City, Country, Dob, Field, FieldError, Metadata, PersonName, Postcode};
pub use model::{
    Change, Decided, Decision, DecisionId, DecisionKind, FieldsPatch, Label, LabelKey, LabelScope, LevelStepError,
    LevelSteps, Profile, ProfileFields, ProfileId, ProfilePolicy, ProfileState, RawFields, Reason, Verdict,
};
pub use ports::{KeyUnavailable, PiiCipher, ProfileFilter, ProfileListItem, ProfileRepository, UserSummary};
pub use service::{LabelsView, MyProfiles, ProfileDetail, ProfileService};
pub use shared_kernel::{Retry, ReviewNote};
