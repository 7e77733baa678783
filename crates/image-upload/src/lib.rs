//! The two-step image upload of seed 003, shared by the avatar and the
//! organization logo: the client asks for a ticket, PUTs the bytes straight to
//! object storage, then asks to finalize; the server never proxies the bytes.
//!
//! - [`model`]: `ImageType`, `ObjectKey`, `UploadTicket`, the `ImageUpload` policy,
//!   magic-byte sniffing and header-only dimension reading.
//! - [`ports`]: `ObjectStore` (presign, head, range read, copy, delete) and
//!   `UploadTicketRepository`.
//! - [`probe`]: header-only dimensions with bounded ranged reads (JPEG segments).
//! - [`service`]: `ImageUploads`, the ticket and finalize use cases.
//! - [`error`]: their typed errors.
#![forbid(unsafe_code)]

pub mod error;
pub mod model;
pub mod ports;
pub mod probe;
pub mod service;

pub use error::{FinalizeError, StoreError, TicketError};
pub use model::{
    ImageType, ImageUpload, KeyError, ObjectKey, PRIVATE_PREFIX, TicketId, TicketState, UploadTicket, VerifiedUpload,
    Visibility, header_dimensions,
};
#[cfg(any(test, feature = "mock"))]
pub use ports::{MockObjectStore, MockUploadTicketRepository};
pub use ports::{ObjectInfo, ObjectStore, PresignedPut, TriesUsed, UploadTicketRepository};
pub use service::{ImageUploads, IssuedTicket, SweepError};
