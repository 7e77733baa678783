//! The two-step image upload of seed 003, shared by the avatar and the
//! organization logo: the client asks for a ticket, PUTs the bytes straight to
//! object storage, then asks to finalize; the server never proxies the bytes.
//!
//! - [`model`]: `ImageType`, `ObjectKey`, `UploadTicket`, the `ImageUpload` policy,
//!   magic-byte sniffing and header-only dimension reading.
//! - [`ports`]: `ObjectStore` (presign, head, range read, copy, delete) and
//!   `UploadTicketRepository`.
//! - [`probe`]: header-only dimensions with bounded ranged reads (JPEG segments).
//! - [`service`]: `ImageUploadService`, the ticket and finalize use cases.
//! - [`error`]: their typed errors.
//! - `memory` (feature `memory`): `MemoryUploadTicketRepository` and
//!   `MemoryObjectStore`, the ports in memory, to embed the flow without a
//!   database or a bucket, and for tests.
//! - `testing` (feature `testing`): the conformance suite every
//!   `UploadTicketRepository` must pass, for adapters' tests.
//!
//! # Features
//!
//! - `memory`: the in-memory adapters above (no extra dependencies).
//! - `testing`: the conformance suite above (no extra dependencies).
//! - `mock`: mockall mocks of the ports.
//!
//! # Example
//!
//! Ask for an avatar upload, upload the bytes the way a client `PUT`s them
//! to the presigned URL, and check them:
//!
//! ```
//! use image_upload::memory::{MemoryObjectStore, MemoryUploadTicketRepository};
//! use image_upload::{FinalizeError, ImageUpload, ImageUploadService, TicketState, UploadTicketRepository, Visibility};
//! use shared_kernel::{FixedClock, UserId};
//! use std::sync::Arc;
//! use time::{Duration, macros::datetime};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> anyhow::Result<()> {
//! let store = Arc::new(MemoryObjectStore::new());
//! let tickets = Arc::new(MemoryUploadTicketRepository::new());
//! let clock = Arc::new(FixedClock::at(datetime!(2026-06-14 12:00 UTC)));
//! let uploads = ImageUploadService::new(store.clone(), tickets.clone(), clock);
//! let policy = ImageUpload::avatar(5, Duration::days(1));
//! let ada = UserId::new(42);
//!
//! // 1. A ticket: one try of the window, and where to PUT the bytes.
//! let issued = uploads.issue_ticket(&policy, "42", ada, "image/png").await?;
//! assert_eq!(issued.upload.headers, [("Content-Type".to_owned(), "image/png".to_owned())]);
//! assert_eq!(uploads.tries_remaining(&policy, "42").await?, 4);
//!
//! // 2. The client uploads a 1×1 PNG.
//! const PNG_1X1: &[u8] = &[
//!     0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
//!     0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89,
//! ];
//! store.put(&issued.ticket.tmp_key, PNG_1X1, Some("image/png"));
//!
//! // 3. Finalize: checked on an immutable copy under its final key.
//! let tmp_key = issued.ticket.tmp_key.as_str();
//! let upload = uploads.verify(&policy, "42", ada, tmp_key, Visibility::Public).await?;
//! assert!(upload.key.as_str().starts_with("avatars/42/"));
//! assert_eq!(store.get(&upload.key).as_deref(), Some(PNG_1X1));
//!
//! // The caller marks the ticket used where it stores the image, then
//! // lets the flow delete the temporary object.
//! assert!(tickets.mark_used(upload.ticket.id));
//! uploads.used(&upload).await;
//! assert_eq!(store.get(&issued.ticket.tmp_key), None);
//! let ticket = tickets.find_by_tmp_key(&issued.ticket.tmp_key).await?.expect("the ticket is kept");
//! assert_eq!(ticket.state, TicketState::Used);
//!
//! // A ticket finalizes once.
//! let again = uploads.verify(&policy, "42", ada, tmp_key, Visibility::Public).await;
//! assert!(matches!(again, Err(FinalizeError::TicketUsed)));
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod error;
#[cfg(feature = "memory")]
pub mod memory;
pub mod model;
pub mod ports;
pub mod probe;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{FinalizeError, StoreError, TicketError};
pub use model::{
    ImageType, ImageUpload, KeyError, ObjectKey, PRIVATE_PREFIX, TicketId, TicketState, UploadTicket, VerifiedUpload,
    Visibility, header_dimensions,
};
pub use ports::{Discard, ObjectInfo, ObjectStore, PresignedPut, TriesUsed, UploadTicketRepository};
#[cfg(any(test, feature = "mock"))]
pub use ports::{MockObjectStore, MockUploadTicketRepository};
pub use service::{ImageUploadService, IssuedTicket, SweepError};
