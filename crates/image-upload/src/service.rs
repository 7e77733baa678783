//! The ticket and finalize use cases, generic over the `ImageUpload` policy
//! so the avatar and the organization logo share them.

use crate::error::{FinalizeError, StoreError, TicketError};
use crate::model::{
    ImageType, ImageUpload, ObjectKey, SNIFF_BYTES, TicketId, TicketState, UploadTicket, VerifiedUpload,
    header_dimensions,
};
use crate::ports::{ObjectStore, PresignedPut, UploadTicketRepository};
use shared_kernel::{Clock, UserId};
use std::sync::Arc;
use time::Duration;

/// A ticket handed to the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedTicket {
    /// The stored ticket.
    pub ticket: UploadTicket,
    /// Where and how to PUT the bytes.
    pub upload: PresignedPut,
    /// Seconds until the ticket and URL expire.
    pub expires_in: Duration,
}

/// The upload use cases over an object store and a ticket repository.
#[derive(Clone)]
pub struct ImageUploads {
    store: Arc<dyn ObjectStore>,
    tickets: Arc<dyn UploadTicketRepository>,
    clock: Arc<dyn Clock>,
}

impl ImageUploads {
    /// Builds the use cases.
    pub fn new(store: Arc<dyn ObjectStore>, tickets: Arc<dyn UploadTicketRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { store, tickets, clock }
    }

    /// The object store (to delete objects a caller replaced).
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Issues a ticket for one `content_type` upload of `owner`'s image,
    /// consuming one try of the window; refused with the time until a try
    /// frees up when none is left.
    pub async fn issue_ticket(
        &self,
        policy: &ImageUpload,
        owner: &str,
        requested_by: UserId,
        content_type: &str,
    ) -> Result<IssuedTicket, TicketError> {
        let image =
            ImageType::from_mime(content_type).ok_or_else(|| TicketError::UnsupportedType(content_type.to_owned()))?;
        let now = self.clock.now();
        let ticket = UploadTicket {
            id: TicketId::new(),
            purpose: policy.purpose.to_owned(),
            owner: owner.to_owned(),
            requested_by,
            tmp_key: policy.temporary_key(owner, image),
            image_type: image,
            state: TicketState::Issued,
            created_at: now,
            expires_at: now + policy.ticket_ttl,
        };
        // Signing does no I/O, so a store problem here consumes nothing.
        let upload = self.store.presign_put(&ticket.tmp_key, image, policy.ticket_ttl).await?;
        match self.tickets.insert_within_limit(&ticket, now - policy.window, policy.tries_per_window).await? {
            Ok(()) => Ok(IssuedTicket { ticket, upload, expires_in: policy.ticket_ttl }),
            Err(used) => {
                let frees_at = used.oldest.map_or(now + policy.window, |oldest| oldest + policy.window);
                Err(TicketError::Exhausted { retry_after: (frees_at - now).max(Duration::SECOND) })
            }
        }
    }

    /// Tries left for `owner` in the current window.
    pub async fn tries_remaining(&self, policy: &ImageUpload, owner: &str) -> anyhow::Result<u32> {
        let used = self.tickets.tries_used(policy.purpose, owner, self.clock.now() - policy.window).await?;
        Ok(policy.tries_per_window.saturating_sub(used.count))
    }

    /// Checks an upload in the order of the contract (ticket exists and is
    /// the caller's, unused, unexpired; object exists; size; magic bytes;
    /// header dimensions) and copies it to its immutable final key. A refused
    /// object is deleted and its ticket rejected, so it costs no try; a store
    /// failure leaves the ticket usable. The ticket stays `issued`: the
    /// caller marks it used in the same transaction that uses the image.
    pub async fn verify(
        &self,
        policy: &ImageUpload,
        owner: &str,
        caller: UserId,
        tmp_key: &str,
    ) -> Result<VerifiedUpload, FinalizeError> {
        let key = ObjectKey::parse(tmp_key).map_err(|_| FinalizeError::TicketNotFound)?;
        if !policy.owns_temporary_key(owner, &key) {
            return Err(FinalizeError::TicketNotFound);
        }
        let ticket = self
            .tickets
            .find_by_tmp_key(&key)
            .await?
            .filter(|t| t.requested_by == caller && t.purpose == policy.purpose && t.owner == owner)
            .ok_or(FinalizeError::TicketNotFound)?;
        if ticket.state != TicketState::Issued {
            return Err(FinalizeError::TicketUsed);
        }
        if self.clock.now() >= ticket.expires_at {
            return Err(FinalizeError::TicketExpired);
        }
        let info = self.store.head(&key).await?.ok_or(FinalizeError::NotUploaded)?;
        if info.size > policy.max_bytes {
            return Err(self.refuse(&ticket, FinalizeError::TooLarge { size: info.size, max: policy.max_bytes }).await);
        }
        let head = self.store.read_range(&key, 0..info.size.min(SNIFF_BYTES)).await?;
        if ImageType::sniff(&head) != Some(ticket.image_type) {
            let declared = ticket.image_type.mime();
            return Err(self.refuse(&ticket, FinalizeError::ContentMismatch { declared }).await);
        }
        match header_dimensions(&head) {
            Some((w, h)) if w <= policy.max_dimension && h <= policy.max_dimension && w > 0 && h > 0 => {}
            actual => {
                let err = FinalizeError::Dimensions { actual, max: policy.max_dimension };
                return Err(self.refuse(&ticket, err).await);
            }
        }
        let final_key = policy.final_key(owner, ticket.image_type);
        self.store.copy(&key, &final_key, ticket.image_type).await?;
        // If this delete fails the sweeper removes the object after expiry.
        let _ = self.store.delete(&key).await;
        Ok(VerifiedUpload { url: self.store.public_url(&final_key), key: final_key, size: info.size, ticket })
    }

    async fn refuse(&self, ticket: &UploadTicket, err: FinalizeError) -> FinalizeError {
        if let Err(e) = self.tickets.reject(ticket.id, self.clock.now()).await {
            return FinalizeError::Unexpected(e);
        }
        // A refused object is deleted now; if that fails the sweeper retries.
        let _ = self.store.delete(&ticket.tmp_key).await;
        err
    }

    /// Deletes the temporary objects of up to `limit` expired tickets and
    /// records it; safe to run on several replicas at once. Returns how many
    /// were swept.
    pub async fn sweep(&self, limit: u32) -> Result<usize, SweepError> {
        let now = self.clock.now();
        let expired = self.tickets.expired_unswept(now, limit).await?;
        for ticket in &expired {
            self.store.delete(&ticket.tmp_key).await?;
            self.tickets.mark_swept(ticket.id, now).await?;
        }
        Ok(expired.len())
    }
}

/// The sweeper failed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The object store failed; the next run retries.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The database failed; the next run retries.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockObjectStore, MockUploadTicketRepository, ObjectInfo, TriesUsed};
    use shared_kernel::FixedClock;
    use time::macros::datetime;

    const T0: time::OffsetDateTime = datetime!(2026-06-14 10:00:00 UTC);

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    fn policy() -> ImageUpload {
        ImageUpload::avatar(5, Duration::days(1))
    }

    fn ticket(key: &ObjectKey, state: TicketState, expires_at: time::OffsetDateTime) -> UploadTicket {
        UploadTicket {
            id: TicketId::new(),
            purpose: "avatar".into(),
            owner: "42".into(),
            requested_by: UserId::new(42),
            tmp_key: key.clone(),
            image_type: ImageType::Png,
            state,
            created_at: T0,
            expires_at,
        }
    }

    fn uploads(store: MockObjectStore, tickets: MockUploadTicketRepository) -> ImageUploads {
        ImageUploads::new(Arc::new(store), Arc::new(tickets), Arc::new(FixedClock::at(T0)))
    }

    fn presigning_store() -> MockObjectStore {
        let mut store = MockObjectStore::new();
        store.expect_presign_put().returning(|key, ct, _| {
            Ok(PresignedPut {
                url: format!("https://s3/{key}"),
                headers: vec![("Content-Type".into(), ct.mime().into())],
            })
        });
        store
    }

    #[tokio::test]
    async fn a_ticket_binds_the_type_and_a_server_made_key() {
        let mut tickets = MockUploadTicketRepository::new();
        tickets
            .expect_insert_within_limit()
            .withf(|t, start, limit| {
                t.tmp_key.as_str().starts_with("tmp/avatars/42/") && *start == T0 - Duration::days(1) && *limit == 5
            })
            .returning(|_, _, _| Ok(Ok(())));
        let issued = uploads(presigning_store(), tickets)
            .issue_ticket(&policy(), "42", UserId::new(42), "image/png")
            .await
            .unwrap();
        assert_eq!(issued.ticket.expires_at, T0 + Duration::seconds(600));
        assert_eq!(issued.upload.headers, vec![("Content-Type".to_owned(), "image/png".to_owned())]);
    }

    #[tokio::test]
    async fn unsupported_types_are_refused_before_anything_is_stored() {
        let mut tickets = MockUploadTicketRepository::new();
        tickets.expect_insert_within_limit().never();
        for ct in ["image/gif", "text/html", "image/svg+xml", ""] {
            let err = uploads(MockObjectStore::new(), MockUploadTicketRepository::new())
                .issue_ticket(&policy(), "42", UserId::new(42), ct)
                .await
                .unwrap_err();
            assert!(matches!(err, TicketError::UnsupportedType(_)), "{ct}");
        }
    }

    #[tokio::test]
    async fn the_sixth_ticket_waits_until_the_oldest_try_leaves_the_window() {
        let mut tickets = MockUploadTicketRepository::new();
        tickets
            .expect_insert_within_limit()
            .returning(|_, _, _| Ok(Err(TriesUsed { count: 5, oldest: Some(T0 - Duration::hours(20)) })));
        let err = uploads(presigning_store(), tickets)
            .issue_ticket(&policy(), "42", UserId::new(42), "image/png")
            .await
            .unwrap_err();
        match err {
            TicketError::Exhausted { retry_after } => assert_eq!(retry_after, Duration::hours(4)),
            other => panic!("{other:?}"),
        }
    }

    fn key() -> ObjectKey {
        ObjectKey::parse("tmp/avatars/42/0196f0e0-0000-7000-8000-000000000000.png").unwrap()
    }

    #[tokio::test]
    async fn forged_foreign_and_unknown_keys_are_not_found() {
        for raw in ["../etc/passwd", "tmp/avatars/43/0196f0e0-0000-7000-8000-000000000000.png", "avatars/42/x.png"] {
            let err = uploads(MockObjectStore::new(), MockUploadTicketRepository::new())
                .verify(&policy(), "42", UserId::new(42), raw)
                .await
                .unwrap_err();
            assert!(matches!(err, FinalizeError::TicketNotFound), "{raw}");
        }
        let mut tickets = MockUploadTicketRepository::new();
        let mut foreign = ticket(&key(), TicketState::Issued, T0 + Duration::minutes(5));
        foreign.requested_by = UserId::new(7);
        tickets.expect_find_by_tmp_key().returning(move |_| Ok(Some(foreign.clone())));
        let err = uploads(MockObjectStore::new(), tickets)
            .verify(&policy(), "42", UserId::new(42), key().as_str())
            .await
            .unwrap_err();
        assert!(matches!(err, FinalizeError::TicketNotFound));
    }

    #[tokio::test]
    async fn used_and_expired_tickets_are_refused_in_that_order() {
        for (state, expires, expected) in [
            (TicketState::Used, T0 - Duration::minutes(1), "used"),
            (TicketState::Rejected, T0 + Duration::minutes(1), "used"),
            (TicketState::Issued, T0, "expired"),
        ] {
            let mut tickets = MockUploadTicketRepository::new();
            let t = ticket(&key(), state, expires);
            tickets.expect_find_by_tmp_key().returning(move |_| Ok(Some(t.clone())));
            let err = uploads(MockObjectStore::new(), tickets)
                .verify(&policy(), "42", UserId::new(42), key().as_str())
                .await
                .unwrap_err();
            let got = match err {
                FinalizeError::TicketUsed => "used",
                FinalizeError::TicketExpired => "expired",
                other => panic!("{other:?}"),
            };
            assert_eq!(got, expected);
        }
    }

    fn live_ticket_repo(expect_reject: bool) -> MockUploadTicketRepository {
        let mut tickets = MockUploadTicketRepository::new();
        let t = ticket(&key(), TicketState::Issued, T0 + Duration::minutes(5));
        tickets.expect_find_by_tmp_key().returning(move |_| Ok(Some(t.clone())));
        tickets.expect_reject().times(usize::from(expect_reject)).returning(|_, _| Ok(()));
        tickets
    }

    fn store_with(bytes: Vec<u8>, size: u64, expect_delete: bool) -> MockObjectStore {
        let mut store = MockObjectStore::new();
        store.expect_head().returning(move |_| Ok(Some(ObjectInfo { size, content_type: Some("image/png".into()) })));
        store
            .expect_read_range()
            .withf(|_, r| r.start == 0 && r.end <= SNIFF_BYTES)
            .returning(move |_, _| Ok(bytes.clone()));
        store.expect_delete().times(usize::from(expect_delete)).returning(|_| Ok(()));
        store
    }

    #[tokio::test]
    async fn nothing_uploaded_yet_keeps_the_ticket_usable() {
        let mut store = MockObjectStore::new();
        store.expect_head().returning(|_| Ok(None));
        let err = uploads(store, live_ticket_repo(false))
            .verify(&policy(), "42", UserId::new(42), key().as_str())
            .await
            .unwrap_err();
        assert!(matches!(err, FinalizeError::NotUploaded));
    }

    #[tokio::test]
    async fn oversized_mismatched_and_huge_images_are_rejected_and_deleted() {
        type Case = (Vec<u8>, u64, fn(&FinalizeError) -> bool);
        let cases: Vec<Case> = vec![
            (png(10, 10), 5 * 1024 * 1024 + 1, |e| matches!(e, FinalizeError::TooLarge { .. })),
            (vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0], 100, |e| matches!(e, FinalizeError::ContentMismatch { .. })),
            (png(4097, 10), 100, |e| matches!(e, FinalizeError::Dimensions { actual: Some((4097, 10)), .. })),
            (png(0, 10), 100, |e| matches!(e, FinalizeError::Dimensions { .. })),
        ];
        for (bytes, size, check) in cases {
            let mut store = store_with(bytes, size, true);
            store.expect_copy().never();
            let err = uploads(store, live_ticket_repo(true))
                .verify(&policy(), "42", UserId::new(42), key().as_str())
                .await
                .unwrap_err();
            assert!(check(&err), "{err:?}");
        }
    }

    #[tokio::test]
    async fn a_good_image_is_copied_to_an_immutable_key_and_the_temporary_one_deleted() {
        let mut store = store_with(png(4096, 4096), 2048, true);
        store
            .expect_copy()
            .withf(|from, to, t| from == &key() && to.as_str().starts_with("avatars/42/") && *t == ImageType::Png)
            .times(1)
            .returning(|_, _, _| Ok(()));
        store.expect_public_url().returning(|k| format!("https://cdn/{k}"));
        let verified = uploads(store, live_ticket_repo(false))
            .verify(&policy(), "42", UserId::new(42), key().as_str())
            .await
            .unwrap();
        assert!(verified.url.starts_with("https://cdn/avatars/42/") && verified.url.ends_with(".png"));
        assert_eq!(verified.size, 2048);
    }

    #[tokio::test]
    async fn a_store_outage_leaves_the_ticket_usable() {
        let mut store = MockObjectStore::new();
        store.expect_head().returning(|_| Err(StoreError::Unavailable(anyhow::anyhow!("connection refused"))));
        let err = uploads(store, live_ticket_repo(false))
            .verify(&policy(), "42", UserId::new(42), key().as_str())
            .await
            .unwrap_err();
        assert!(matches!(err, FinalizeError::Store(StoreError::Unavailable(_))));
    }

    #[tokio::test]
    async fn the_sweeper_deletes_then_records() {
        let mut tickets = MockUploadTicketRepository::new();
        let t = ticket(&key(), TicketState::Issued, T0 - Duration::minutes(1));
        tickets.expect_expired_unswept().returning(move |_, _| Ok(vec![t.clone()]));
        tickets.expect_mark_swept().times(1).returning(|_, _| Ok(()));
        let mut store = MockObjectStore::new();
        store.expect_delete().times(1).returning(|_| Ok(()));
        assert_eq!(uploads(store, tickets).sweep(100).await.unwrap(), 1);
    }
}
