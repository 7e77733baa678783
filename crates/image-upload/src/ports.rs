//! The ports of the image upload.

use crate::error::StoreError;
use crate::model::{ImageType, ObjectKey, TicketId, UploadTicket};
use async_trait::async_trait;
use std::ops::Range;
use time::{Duration, OffsetDateTime};

/// A presigned upload the client performs itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignedPut {
    /// The URL to `PUT` the bytes to.
    pub url: String,
    /// Headers the client MUST send with exactly these values (`Content-Type`).
    pub headers: Vec<(String, String)>,
}

/// What the store knows about an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Size in bytes.
    pub size: u64,
    /// Stored content type, if any.
    pub content_type: Option<String>,
}

/// Object storage: S3 / R2 in production, local disk embedded.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// A URL that accepts one `PUT` of `key` with exactly `content_type`
    /// (signed into the URL, so another type is refused) until `expires_in`
    /// has passed. MUST NOT perform I/O that can consume anything.
    async fn presign_put(
        &self,
        key: &ObjectKey,
        content_type: ImageType,
        expires_in: Duration,
    ) -> Result<PresignedPut, StoreError>;

    /// Size and type of `key`, or `None` if it does not exist.
    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectInfo>, StoreError>;

    /// The bytes of `range` (end exclusive; shorter if the object is). MUST
    /// read only that range, never the whole object.
    async fn read_range(&self, key: &ObjectKey, range: Range<u64>) -> Result<Vec<u8>, StoreError>;

    /// Copies `from` to `to` inside the store, storing `content_type`.
    /// MUST answer `Missing` (writing nothing) when `from` does not exist.
    async fn copy(&self, from: &ObjectKey, to: &ObjectKey, content_type: ImageType) -> Result<(), StoreError>;

    /// Deletes `key`; deleting a missing object succeeds.
    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError>;

    /// The public URL of a finalized object. A private object
    /// ([`ObjectKey::is_private`]) MUST NOT be served at it.
    fn public_url(&self, key: &ObjectKey) -> String;

    /// A URL that serves `key` (private or not) until `expires_in` has
    /// passed. MUST NOT perform I/O.
    async fn presign_get(&self, key: &ObjectKey, expires_in: Duration) -> Result<String, StoreError>;
}

/// Deleting an object nothing references any more. A failed delete costs
/// storage, not correctness, so it is not an error of the use case; but it
/// is logged (with why the object was unwanted) instead of dropped silently.
#[async_trait]
pub trait Discard {
    /// Deletes `key`; logs a warning naming `why` if the store refuses.
    async fn discard(&self, key: &ObjectKey, why: &str);
}

#[async_trait]
impl<S: ObjectStore + ?Sized> Discard for S {
    async fn discard(&self, key: &ObjectKey, why: &str) {
        if let Err(error) = self.delete(key).await {
            tracing::warn!(%key, why, %error, "an unreferenced object could not be deleted; it stays in the store");
        }
    }
}

/// How many tries of a window are used, and when the oldest one was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TriesUsed {
    /// Tickets in the window that count (issued or used, not rejected).
    pub count: u32,
    /// Creation time of the oldest of them.
    pub oldest: Option<OffsetDateTime>,
}

/// Stores upload tickets.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UploadTicketRepository: Send + Sync {
    /// Inserts `ticket` unless its owner already has `limit` counting tickets
    /// for its purpose created after `window_start`; then returns the tries
    /// used instead (`Err`). MUST be exact under concurrency, across processes.
    async fn insert_within_limit(
        &self,
        ticket: &UploadTicket,
        window_start: OffsetDateTime,
        limit: u32,
    ) -> anyhow::Result<Result<(), TriesUsed>>;

    /// The ticket for a temporary key, if any.
    async fn find_by_tmp_key(&self, key: &ObjectKey) -> anyhow::Result<Option<UploadTicket>>;

    /// Marks an issued ticket rejected (it stops counting as a try).
    async fn reject(&self, id: TicketId, now: OffsetDateTime) -> anyhow::Result<()>;

    /// Tries used by `owner` for `purpose` since `window_start`.
    async fn tries_used(&self, purpose: &str, owner: &str, window_start: OffsetDateTime) -> anyhow::Result<TriesUsed>;

    /// Up to `limit` tickets (in any state) whose expiry is before `now` and
    /// whose temporary object has not been swept yet.
    async fn expired_unswept(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<UploadTicket>>;

    /// Records that a ticket's temporary object was deleted (idempotent).
    async fn mark_swept(&self, id: TicketId, now: OffsetDateTime) -> anyhow::Result<()>;
}
