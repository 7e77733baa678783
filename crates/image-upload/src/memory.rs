//! In-memory adapters (feature `memory`): [`MemoryUploadTicketRepository`]
//! and [`MemoryObjectStore`], for embedding the upload flow without a
//! database or a bucket, and for tests.
//!
//! Each holds its state behind one `std::sync::Mutex` and does every call's
//! work under it, so each call is atomic, as the SQL adapter's transactions
//! are. A `std` mutex and not tokio's: no lock is held across an `.await`,
//! and the critical sections are a few map operations.

use crate::error::StoreError;
use crate::model::{ImageType, ObjectKey, TicketId, TicketState, UploadTicket};
use crate::ports::{ObjectInfo, ObjectStore, PresignedPut, TriesUsed, UploadTicketRepository};
use async_trait::async_trait;
use shared_kernel::truncate_to_micros;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Mutex, MutexGuard};
use time::{Duration, OffsetDateTime};

/// Locks `mutex`, recovering from poisoning: every critical section below
/// leaves its map consistent before anything in it can panic.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Debug)]
struct StoredTicket {
    ticket: UploadTicket,
    swept: bool,
}

/// Upload tickets in memory, with the SQL adapter's semantics: unique ids
/// and temporary keys, the exact per-owner rate limit (counted and inserted
/// under one lock), compare-and-set state changes, instants kept to the
/// microsecond as the databases store them.
///
/// Other crates' in-memory adapters that finalize an upload in the same
/// step as their own write (the avatar, a photo verification) share one
/// repository through an `Arc` and call [`Self::mark_used`].
#[derive(Debug, Default)]
pub struct MemoryUploadTicketRepository {
    tickets: Mutex<Vec<StoredTicket>>,
}

impl MemoryUploadTicketRepository {
    /// An empty repository.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks the ticket used if it is still `issued`; returns whether it
    /// was (so a ticket finalizes once, however many race).
    pub fn mark_used(&self, id: TicketId) -> bool {
        let mut tickets = lock(&self.tickets);
        match tickets.iter_mut().find(|t| t.ticket.id == id) {
            Some(t) if t.ticket.state == TicketState::Issued => {
                t.ticket.state = TicketState::Used;
                true
            }
            _ => false,
        }
    }

    /// The ticket's state, if the ticket exists.
    pub fn state(&self, id: TicketId) -> Option<TicketState> {
        lock(&self.tickets).iter().find(|t| t.ticket.id == id).map(|t| t.ticket.state)
    }

    /// Tries used by `owner` for `purpose` since `window_start`, as
    /// [`UploadTicketRepository::tries_used`] answers, without awaiting.
    pub fn count_tries(&self, purpose: &str, owner: &str, window_start: OffsetDateTime) -> TriesUsed {
        count(&lock(&self.tickets), purpose, owner, window_start)
    }
}

/// Tickets that count: this owner's and purpose's, created after
/// `window_start`, not rejected.
fn count(tickets: &[StoredTicket], purpose: &str, owner: &str, window_start: OffsetDateTime) -> TriesUsed {
    let mut created: Vec<OffsetDateTime> = tickets
        .iter()
        .map(|t| &t.ticket)
        .filter(|t| {
            t.purpose == purpose && t.owner == owner && t.created_at > window_start && t.state != TicketState::Rejected
        })
        .map(|t| t.created_at)
        .collect();
    created.sort();
    TriesUsed { count: u32::try_from(created.len()).unwrap_or(u32::MAX), oldest: created.first().copied() }
}

#[async_trait]
impl UploadTicketRepository for MemoryUploadTicketRepository {
    async fn insert_within_limit(
        &self,
        ticket: &UploadTicket,
        window_start: OffsetDateTime,
        limit: u32,
    ) -> anyhow::Result<Result<(), TriesUsed>> {
        let mut tickets = lock(&self.tickets);
        let used = count(&tickets, &ticket.purpose, &ticket.owner, window_start);
        if used.count >= limit {
            return Ok(Err(used));
        }
        if tickets.iter().any(|t| t.ticket.id == ticket.id || t.ticket.tmp_key == ticket.tmp_key) {
            anyhow::bail!("upload ticket {} or its key {} already exists", ticket.id, ticket.tmp_key);
        }
        let mut stored = ticket.clone();
        stored.created_at = truncate_to_micros(stored.created_at);
        stored.expires_at = truncate_to_micros(stored.expires_at);
        tickets.push(StoredTicket { ticket: stored, swept: false });
        Ok(Ok(()))
    }

    async fn find_by_tmp_key(&self, key: &ObjectKey) -> anyhow::Result<Option<UploadTicket>> {
        Ok(lock(&self.tickets).iter().find(|t| &t.ticket.tmp_key == key).map(|t| t.ticket.clone()))
    }

    async fn reject(&self, id: TicketId, _now: OffsetDateTime) -> anyhow::Result<()> {
        let mut tickets = lock(&self.tickets);
        if let Some(t) = tickets.iter_mut().find(|t| t.ticket.id == id && t.ticket.state == TicketState::Issued) {
            t.ticket.state = TicketState::Rejected;
        }
        Ok(())
    }

    async fn tries_used(&self, purpose: &str, owner: &str, window_start: OffsetDateTime) -> anyhow::Result<TriesUsed> {
        Ok(self.count_tries(purpose, owner, window_start))
    }

    async fn expired_unswept(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<UploadTicket>> {
        let tickets = lock(&self.tickets);
        let mut expired: Vec<UploadTicket> =
            tickets.iter().filter(|t| !t.swept && t.ticket.expires_at < now).map(|t| t.ticket.clone()).collect();
        expired.sort_by_key(|t| t.expires_at);
        expired.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(expired)
    }

    async fn mark_swept(&self, id: TicketId, _now: OffsetDateTime) -> anyhow::Result<()> {
        if let Some(t) = lock(&self.tickets).iter_mut().find(|t| t.ticket.id == id) {
            t.swept = true;
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
struct StoredObject {
    bytes: Vec<u8>,
    content_type: Option<String>,
}

/// An object store in memory. There is no HTTP face: a client's presigned
/// `PUT` is [`Self::put`], and URLs are opaque `memory://` strings that
/// nothing serves.
#[derive(Debug)]
pub struct MemoryObjectStore {
    objects: Mutex<HashMap<ObjectKey, StoredObject>>,
    base_url: String,
}

impl Default for MemoryObjectStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryObjectStore {
    /// An empty store whose public URLs start with `memory://objects/`.
    pub fn new() -> Self {
        Self::with_base_url("memory://objects")
    }

    /// An empty store whose public URLs are `{base_url}/{key}`.
    pub fn with_base_url(base_url: &str) -> Self {
        Self { objects: Mutex::new(HashMap::new()), base_url: base_url.trim_end_matches('/').to_owned() }
    }

    /// Stores `bytes` at `key`, as the client's presigned `PUT` would.
    pub fn put(&self, key: &ObjectKey, bytes: impl Into<Vec<u8>>, content_type: Option<&str>) {
        let object = StoredObject { bytes: bytes.into(), content_type: content_type.map(str::to_owned) };
        lock(&self.objects).insert(key.clone(), object);
    }

    /// The bytes stored at `key`, if any.
    pub fn get(&self, key: &ObjectKey) -> Option<Vec<u8>> {
        lock(&self.objects).get(key).map(|o| o.bytes.clone())
    }

    /// Every stored key, sorted.
    pub fn keys(&self) -> Vec<ObjectKey> {
        let mut keys: Vec<ObjectKey> = lock(&self.objects).keys().cloned().collect();
        keys.sort();
        keys
    }
}

#[async_trait]
impl ObjectStore for MemoryObjectStore {
    async fn presign_put(
        &self,
        key: &ObjectKey,
        content_type: ImageType,
        expires_in: Duration,
    ) -> Result<PresignedPut, StoreError> {
        Ok(PresignedPut {
            url: format!("memory://uploads/{key}?expires-in={}", expires_in.whole_seconds()),
            headers: vec![("Content-Type".to_owned(), content_type.mime().to_owned())],
        })
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectInfo>, StoreError> {
        Ok(lock(&self.objects)
            .get(key)
            .map(|o| ObjectInfo { size: o.bytes.len() as u64, content_type: o.content_type.clone() }))
    }

    async fn read_range(&self, key: &ObjectKey, range: Range<u64>) -> Result<Vec<u8>, StoreError> {
        let objects = lock(&self.objects);
        let object = objects.get(key).ok_or_else(|| StoreError::Missing(key.to_string()))?;
        let len = object.bytes.len();
        let start = usize::try_from(range.start).unwrap_or(usize::MAX).min(len);
        let end = usize::try_from(range.end).unwrap_or(usize::MAX).clamp(start, len);
        Ok(object.bytes[start..end].to_vec())
    }

    async fn copy(&self, from: &ObjectKey, to: &ObjectKey, content_type: ImageType) -> Result<(), StoreError> {
        let mut objects = lock(&self.objects);
        let bytes = objects.get(from).ok_or_else(|| StoreError::Missing(from.to_string()))?.bytes.clone();
        objects.insert(to.clone(), StoredObject { bytes, content_type: Some(content_type.mime().to_owned()) });
        Ok(())
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        lock(&self.objects).remove(key);
        Ok(())
    }

    fn public_url(&self, key: &ObjectKey) -> String {
        format!("{}/{key}", self.base_url)
    }

    async fn presign_get(&self, key: &ObjectKey, expires_in: Duration) -> Result<String, StoreError> {
        Ok(format!("memory://signed/{key}?expires-in={}", expires_in.whole_seconds()))
    }
}
