//! Photo verification (seed 000): a new profile photo waits for a superuser's
//! review against the user's Discord avatar before it goes live.
//!
//! - [`model`]: `PhotoVerification`, its status, its two approval sides, the
//!   event log entries, and the pure transitions (`open`, `approve`, `reject`,
//!   `refresh_discord`, `supersede`).
//! - [`ports`]: `PhotoVerificationRepository` and `DiscordAvatars`.
//! - [`service`]: `PhotoVerificationService`, the review use cases.
//! - [`error`]: their typed errors.
//! - [`events`]: the public event of each entry of a verification's log.
//! - `memory` (feature `memory`): `MemoryPhotoVerificationRepository`, the
//!   port in memory, to embed the review without a database, and for tests.
//! - `testing` (feature `testing`): the conformance suite every
//!   `PhotoVerificationRepository` must pass, for adapters' tests.
//!
//! # Features
//!
//! - `memory`: the in-memory adapter above; turns on `image-upload/memory`,
//!   whose ticket repository opening uses tickets from.
//! - `testing`: the conformance suite above; turns on `image-upload/testing`.
//! - `mock`: mockall mocks of the ports.
//!
//! # Example
//!
//! A verified upload waits, private, for review; the background job reads
//! the user's Discord avatar, and a superuser accepts the photo, which
//! publishes it and makes it the user's avatar:
//!
//! ```
//! use async_trait::async_trait;
//! use image_upload::memory::{MemoryObjectStore, MemoryUploadTicketRepository};
//! use image_upload::{ImageUpload, ImageUploadService, ObjectKey, ObjectStore as _};
//! use photo_verification::memory::MemoryPhotoVerificationRepository;
//! use photo_verification::{
//!     ApprovalSide, DiscordAvatar, DiscordAvatars, DiscordError, NewVerification, PhotoVerificationService, UserSummary,
//!     VerificationStatus,
//! };
//! use shared_kernel::{Actor, DiscordId, FixedClock, NoPause, PlatformRole, UserId};
//! use std::sync::Arc;
//! use time::{Duration, macros::datetime};
//!
//! /// Discord, as a test double: every user has the same avatar.
//! struct FixedDiscord;
//!
//! #[async_trait]
//! impl DiscordAvatars for FixedDiscord {
//!     async fn current_avatar(&self, _: &DiscordId) -> Result<DiscordAvatar, DiscordError> {
//!         Ok(DiscordAvatar { url: "https://cdn.discordapp.com/avatars/1/a.png".into(), hash: Some("a".into()) })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! let clock = Arc::new(FixedClock::at(datetime!(2026-06-14 12:00 UTC)));
//! let store = Arc::new(MemoryObjectStore::new());
//! let tickets = Arc::new(MemoryUploadTicketRepository::new());
//! let repo = Arc::new(MemoryPhotoVerificationRepository::new(tickets.clone()));
//! let ada = UserId::new(1);
//! let discord_id = DiscordId::parse("80351110224678912")?;
//! let summary = UserSummary { id: ada, username: "ada".into(), display_name: "Ada".into(), avatar_url: None };
//! repo.put_user(summary, Some(discord_id.clone()), None);
//! let uploads = ImageUploadService::new(store.clone(), tickets, clock.clone());
//! let photos = PhotoVerificationService::new(
//!     repo.clone(),
//!     Arc::new(FixedDiscord),
//!     store.clone(),
//!     uploads.clone(),
//!     clock,
//!     Arc::new(NoPause),
//! );
//!
//! // Ada's upload was checked and copied to a private key (see image-upload).
//! let issued = uploads.issue_ticket(&ImageUpload::avatar(5, Duration::days(1)), "1", ada, "image/png").await?;
//! let private = ObjectKey::parse("pending/avatars/1/0196f0e0-0000-7000-8000-000000000000.png")?;
//! store.put(&private, b"\x89PNG\r\n\x1a\n".to_vec(), Some("image/png"));
//! let new = NewVerification {
//!     user_id: ada,
//!     discord_id: Some(discord_id),
//!     current_profile_url: None,
//!     url: store.public_url(&private),
//!     object_key: private.clone(),
//!     sha256: "0".repeat(64),
//!     discord: None,
//! };
//! let opened = photos.open(issued.ticket.id, new).await?;
//! assert_eq!(opened.verification.status, VerificationStatus::Pending);
//!
//! // The background job reads the Discord avatar; a superuser compares and accepts.
//! assert_eq!(photos.read_discord_avatars(10).await?, 1);
//! let root = Actor { user_id: UserId::new(2), role: PlatformRole::Superuser };
//! let accepted = photos.approve(&root, opened.verification.id, ApprovalSide::Both).await?;
//! assert_eq!(accepted.status, VerificationStatus::Accepted);
//! let public = private.published().expect("a private key has a public one");
//! assert_eq!(accepted.profile.object_key, public);
//! assert!(store.get(&public).is_some() && store.get(&private).is_none(), "published, the private copy gone");
//! assert_eq!(repo.user(ada).and_then(|u| u.avatar_url), Some(store.public_url(&public)));
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod error;
pub mod events;
#[cfg(feature = "memory")]
pub mod memory;
pub mod model;
pub mod ports;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

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
pub use service::PhotoVerificationService;
pub use shared_kernel::{Retry, ReviewNote, ReviewNoteError};
