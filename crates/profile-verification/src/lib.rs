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
//! - [`events`]: the events of profiles (opened, edited, submitted, withdrawn, decided), by id and state only.
//! - `memory` (feature `memory`): `MemoryProfileRepository`, the port in
//!   memory, to embed the use cases without a database, and for tests.
//! - `testing` (feature `testing`): the conformance suite every
//!   `ProfileRepository` must pass, for adapters' tests.
//!
//! # Features
//!
//! - `memory`: the in-memory adapter above (no extra dependencies).
//! - `testing`: the conformance suite above (no extra dependencies).
//! - `mock`: mockall mocks of the ports.
//!
//! # Example
//!
//! A user drafts a profile and submits it; a superuser verifies it. A
//! profile a superuser files for someone needs a second superuser's
//! decision (four eyes):
//!
//! ```
//! use profile_verification::memory::MemoryProfileRepository;
//! use profile_verification::{
//!     FieldsPatch, ProfileError, ProfilePolicy, ProfileService, ProfileState, RawFields, UserSummary, Verdict,
//! };
//! use shared_kernel::{Actor, FixedClock, NoPause, PlatformRole, UserId};
//! use std::sync::Arc;
//! use time::macros::datetime;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! let now = datetime!(2026-06-14 10:00 UTC);
//! let repo = Arc::new(MemoryProfileRepository::new());
//! // The user context's users, as the repository sees them.
//! let person = |id: i64, name: &str| UserSummary {
//!     id: UserId::new(id),
//!     email: format!("{name}@example.com"),
//!     email_verified: true,
//!     username: name.to_owned(),
//!     display_name: name.to_owned(),
//! };
//! for (id, name) in [(1, "ada"), (2, "bob"), (3, "grace"), (4, "alan")] {
//!     repo.put_user(person(id, name), now);
//! }
//! let ada = Actor { user_id: UserId::new(1), role: PlatformRole::User };
//! let grace = Actor { user_id: UserId::new(3), role: PlatformRole::Superuser };
//! let alan = Actor { user_id: UserId::new(4), role: PlatformRole::Superuser };
//! let clock = Arc::new(FixedClock::at(now));
//! let service = ProfileService::new(repo, clock, Arc::new(NoPause), ProfilePolicy::default());
//!
//! // Ada drafts, then submits.
//! let fields = RawFields {
//!     first_name: Some(Some("Ada".into())),
//!     country: Some(Some("GBR".into())),
//!     ..RawFields::default()
//! };
//! let patch = fields.parse(service.today())?;
//! let draft = service.create(&ada, &patch, false).await?;
//! assert_eq!(draft.state, ProfileState::Drafted);
//! let submitted = service.edit(&ada, &FieldsPatch::default(), true).await?;
//! assert_eq!(submitted.state, ProfileState::Submitted);
//!
//! // Grace verifies it: Ada reaches level 2 (e-mail and profile verified).
//! let verified = service.decide(&grace, submitted.id, Verdict::Verify(None)).await?;
//! assert_eq!(verified.state, ProfileState::Verified);
//! assert_eq!(service.labels(&grace, ada.user_id).await?.level, 2);
//!
//! // Grace files a profile for Bob: she may not decide it herself, Alan may.
//! let filed = service.file_for(&grace, UserId::new(2), &patch).await?;
//! let own = service.decide(&grace, filed.id, Verdict::Verify(None)).await;
//! assert!(matches!(own, Err(ProfileError::SecondAdminApproval)));
//! let verified = service.decide(&alan, filed.id, Verdict::Verify(None)).await?;
//! assert_eq!(verified.state, ProfileState::Verified);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod countries;
pub mod error;
pub mod events;
pub mod fields;
#[cfg(feature = "memory")]
pub mod memory;
pub mod model;
pub mod ports;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{CreateProfileError, FieldProblem, InvalidFields, ProfileError};
pub use fields::{Address, City, Country, Dob, Field, FieldError, Metadata, PersonName, Postcode};
pub use model::{
    Change, Decision, DecisionId, DecisionKind, FieldsPatch, Label, LabelKey, LabelScope, LevelStepError, LevelSteps,
    Profile, ProfileEvent, ProfileFields, ProfileId, ProfilePolicy, ProfileState, RawFields, Reason, Transition,
    Verdict,
};
pub use ports::{KeyUnavailable, PiiCipher, ProfileFilter, ProfileListItem, ProfileRepository, UserSummary};
pub use service::{LabelsView, MyProfiles, ProfileDetail, ProfileService};
pub use shared_kernel::{Retry, ReviewNote};
