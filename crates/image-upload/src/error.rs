//! Typed errors of the upload use cases and of the object store.

use time::Duration;

/// The object store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// It could not be reached (connection refused, timeout): 503.
    #[error("the object store is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// It answered with an error: 502.
    #[error("the object store failed")]
    Upstream(#[source] anyhow::Error),
    /// The object to read or copy does not exist.
    #[error("the object {0} does not exist")]
    Missing(String),
}

/// Issuing a ticket failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TicketError {
    /// Not JPEG, PNG or WebP (415 `upload.unsupported_type`).
    #[error("content type {0:?} is not accepted; use image/jpeg, image/png or image/webp")]
    UnsupportedType(String),
    /// Every try of the window is used (429 with `Retry-After`).
    #[error("no upload tries left; the next one frees up in {retry_after}")]
    Exhausted {
        /// Until the oldest counted try leaves the window.
        retry_after: Duration,
    },
    /// The object store could not presign.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Finalizing failed. The variants are listed in the order they are checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FinalizeError {
    /// No such ticket for this caller, or the key is not one we issued (404 `upload.ticket_invalid`).
    #[error("no upload ticket matches this key")]
    TicketNotFound,
    /// The ticket was already finalized or rejected (409 `upload.ticket_invalid`).
    #[error("this upload ticket was already used")]
    TicketUsed,
    /// The ticket expired (410 `upload.ticket_invalid`).
    #[error("this upload ticket has expired; ask for a new one")]
    TicketExpired,
    /// Nothing was uploaded under the key yet (409 `upload.not_found`).
    #[error("nothing has been uploaded under this key yet")]
    NotUploaded,
    /// Larger than the policy allows (413 `upload.too_large`).
    #[error("the image is {size} bytes; at most {max} are accepted")]
    TooLarge {
        /// Actual size.
        size: u64,
        /// Limit.
        max: u64,
    },
    /// The bytes are not the declared format (415 `upload.content_mismatch`).
    #[error("the uploaded bytes are not a {declared} image")]
    ContentMismatch {
        /// The declared media type.
        declared: &'static str,
    },
    /// Too wide or tall, or no readable header (422 `upload.dimensions`).
    #[error("the image must be at most {max}x{max} pixels{}", actual.map(|(w, h)| format!(", got {w}x{h}")).unwrap_or_default())]
    Dimensions {
        /// The size read, if the header was readable.
        actual: Option<(u64, u64)>,
        /// Limit per side.
        max: u64,
    },
    /// The object store failed (502/503); the ticket stays usable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}
