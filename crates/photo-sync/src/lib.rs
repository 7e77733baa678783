//! Photo verification (seed 000): a new profile photo waits for a superuser's
//! review against the user's Discord avatar before it goes live.
//!
//! - [`model`]: `PhotoVerification`, its status, its two approval sides, the
//!   event log entries, and the pure transitions (`open`, `approve`, `reject`,
//!   `refresh_discord`, `supersede`).
//! - [`ports`]: `PhotoVerificationRepository` and `DiscordAvatars`.
//! - [`service`]: `PhotoVerifications`, the review use cases.
//! - [`error`]: their typed errors.
#![forbid(unsafe_code)]

pub mod error;
pub mod model;
pub mod ports;
pub mod service;

pub use error::{DecisionError, DiscordError, OpenError, ReviewError};
pub use model::{
    Approval, ApprovalSide, DiscordAvatar, DiscordSide, NewVerification, PhotoEvent, PhotoEventKind, PhotoVerification,
    PhotoVerificationId, PreviousPhotos, ProfileSide, Rejection, RejectionReason, RejectionReasonError, Transition,
    VerificationStatus, VerificationStatusError,
};
pub use ports::{
    DiscordAvatars, Opened, PhotoVerificationRepository, Saved, StatusFilter, UserSummary, VerificationFilter,
    VerificationWithUser,
};
#[cfg(any(test, feature = "mock"))]
pub use ports::{MockDiscordAvatars, MockPhotoVerificationRepository};
pub use service::PhotoVerifications;
pub use shared_kernel::{Retry, ReviewNote, ReviewNoteError};
