//! The ticket and finalize use cases, generic over the `ImageUpload` policy
//! so the avatar and the organization logo share them.

use crate::error::{FinalizeError, StoreError, TicketError};
use crate::model::{
    ImageType, ImageUpload, ObjectKey, TicketId, TicketState, UploadTicket, VerifiedUpload, Visibility,
};
use crate::ports::{Discard as _, ObjectStore, PresignedPut, UploadTicketRepository};
use crate::probe::{self, DimensionProbe, Step};
use sha2::{Digest as _, Sha256};
use shared_kernel::{Clock, UserId};
use std::sync::Arc;
use time::Duration;

/// A ticket handed to the client.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
pub struct ImageUploadService {
    store: Arc<dyn ObjectStore>,
    tickets: Arc<dyn UploadTicketRepository>,
    clock: Arc<dyn Clock>,
}

impl ImageUploadService {
    /// Builds the use cases.
    pub fn new(store: Arc<dyn ObjectStore>, tickets: Arc<dyn UploadTicketRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { store, tickets, clock }
    }

    /// Makes the object `new` live through `swap`, the one write that
    /// references it (and, for an image that replaces another, returns the
    /// object it replaced, read by `replaced`). Whatever nobody references
    /// afterwards is deleted: the replaced object when the swap succeeded,
    /// `new` when it failed (a concurrent finalize won the ticket, the owner
    /// is gone). Every image use case ends this way.
    pub async fn commit<T, E>(
        &self,
        new: &ObjectKey,
        swap: impl Future<Output = Result<T, E>>,
        replaced: impl FnOnce(&T) -> Option<&ObjectKey>,
    ) -> Result<T, E> {
        match swap.await {
            Ok(done) => {
                if let Some(previous) = replaced(&done).filter(|p| *p != new) {
                    self.store.discard(previous, "replaced by a new image").await;
                }
                Ok(done)
            }
            Err(e) => {
                self.store.discard(new, "its image was not applied").await;
                Err(e)
            }
        }
    }

    /// Deletes an object a use case removed (an avatar or logo cleared).
    pub async fn removed(&self, key: &ObjectKey) {
        self.store.discard(key, "its image was removed").await;
    }

    /// Deletes the final copy of a verified upload that a later step refused
    /// before anything referenced it; its ticket stays issued.
    pub async fn unused(&self, upload: &VerifiedUpload) {
        self.store.discard(&upload.key, "its upload was refused after the checks").await;
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

    /// Checks an upload and gives it its immutable final key, publishing
    /// exactly the bytes it checked: the temporary object is copied first
    /// (no presigned URL can write the copy) and the checks run on the copy
    /// — size, magic bytes, header dimensions (walking a JPEG's segments).
    /// The copy is read once, after its size passed the policy's bound, and
    /// the result carries the SHA-256 of exactly the bytes checked (photo
    /// verification ties an approval to it). The order of the contract holds: ticket
    /// (exists and is the caller's, unused, unexpired), object, size,
    /// format, dimensions. A refused object is deleted and its ticket
    /// rejected, so it costs no try; a store failure leaves the ticket
    /// usable. The ticket stays `issued` and the temporary object in place:
    /// the caller marks the ticket used in the transaction that uses the
    /// image, then calls [`Self::used`].
    pub async fn verify(
        &self,
        policy: &ImageUpload,
        owner: &str,
        caller: UserId,
        tmp_key: &str,
        visibility: Visibility,
    ) -> Result<VerifiedUpload, FinalizeError> {
        let key = ObjectKey::parse(tmp_key).map_err(|_| FinalizeError::TicketNotFound)?;
        if !policy.owns_temporary_key(owner, &key) {
            return Err(FinalizeError::TicketNotFound);
        }
        let ticket = self.ticket_of(policy, owner, caller, &key).await?;
        if ticket.state != TicketState::Issued {
            return Err(FinalizeError::TicketUsed);
        }
        if self.clock.now() >= ticket.expires_at {
            return Err(FinalizeError::TicketExpired);
        }
        let final_key = policy.final_key(owner, ticket.image_type, visibility);
        match self.store.copy(&key, &final_key, ticket.image_type).await {
            Ok(()) => {}
            // Nothing uploaded yet, or a concurrent finalize used the ticket
            // and its temporary object is gone.
            Err(StoreError::Missing(_)) => {
                let now = self.ticket_of(policy, owner, caller, &key).await?;
                return Err(if now.state == TicketState::Issued {
                    FinalizeError::NotUploaded
                } else {
                    FinalizeError::TicketUsed
                });
            }
            Err(e) => return Err(e.into()),
        }
        match self.check(policy, &ticket, &final_key).await {
            Ok(Checked { size, sha256 }) => {
                Ok(VerifiedUpload { url: self.store.public_url(&final_key), key: final_key, size, sha256, ticket })
            }
            Err(e) => {
                self.store.discard(&final_key, "its copy failed the checks").await;
                Err(match e {
                    Refused::Store(e) => e.into(),
                    Refused::Object(err) => self.refuse(&ticket, err).await,
                })
            }
        }
    }

    /// The ticket of a temporary key, if it is `caller`'s for `owner` and this policy.
    async fn ticket_of(
        &self,
        policy: &ImageUpload,
        owner: &str,
        caller: UserId,
        key: &ObjectKey,
    ) -> Result<UploadTicket, FinalizeError> {
        self.tickets
            .find_by_tmp_key(key)
            .await?
            .filter(|t| t.requested_by == caller && t.purpose == policy.purpose && t.owner == owner)
            .ok_or(FinalizeError::TicketNotFound)
    }

    /// Checks the copy at `key`: its size, its magic bytes, its header
    /// dimensions; one read of the whole copy, bounded by the policy's size.
    async fn check(&self, policy: &ImageUpload, ticket: &UploadTicket, key: &ObjectKey) -> Result<Checked, Refused> {
        let info = self.store.head(key).await?.ok_or(Refused::Object(FinalizeError::NotUploaded))?;
        if info.size > policy.max_bytes {
            return Err(Refused::Object(FinalizeError::TooLarge { size: info.size, max: policy.max_bytes }));
        }
        let bytes = self.store.read_range(key, 0..info.size).await?;
        if u64::try_from(bytes.len()).ok() != Some(info.size) {
            let short = anyhow::anyhow!("the store returned {} of the {} bytes of {key}", bytes.len(), info.size);
            return Err(Refused::Store(StoreError::Upstream(short)));
        }
        let part = |range: std::ops::Range<u64>| {
            let start = usize::try_from(range.start).unwrap_or(usize::MAX).min(bytes.len());
            let end = usize::try_from(range.end).unwrap_or(usize::MAX).min(bytes.len()).max(start);
            bytes[start..end].to_vec()
        };
        let head = part(0..probe::WINDOW);
        if ImageType::sniff(&head) != Some(ticket.image_type) {
            return Err(Refused::Object(FinalizeError::ContentMismatch { declared: ticket.image_type.mime() }));
        }
        let mut probe = DimensionProbe::new(ticket.image_type, info.size, head);
        let dimensions = loop {
            match probe.next_step() {
                Step::Done(d) => break d,
                Step::Read(range) => probe.feed(range.start, part(range)),
            }
        };
        match dimensions {
            Some((w, h)) if w <= policy.max_dimension && h <= policy.max_dimension && w > 0 && h > 0 => {
                Ok(Checked { size: info.size, sha256: format!("{:x}", Sha256::digest(&bytes)) })
            }
            actual => Err(Refused::Object(FinalizeError::Dimensions { actual, max: policy.max_dimension })),
        }
    }

    /// Whether the temporary `key` may still receive bytes: its ticket is
    /// issued and unexpired (a used one's copy is what was checked and published).
    pub async fn accepts_upload(&self, key: &ObjectKey) -> anyhow::Result<bool> {
        let ticket = self.tickets.find_by_tmp_key(key).await?;
        Ok(ticket.is_some_and(|t| t.state == TicketState::Issued && self.clock.now() < t.expires_at))
    }

    /// After the ticket of `upload` was marked used: deletes its temporary
    /// object (the sweeper deletes it after expiry if this fails).
    pub async fn used(&self, upload: &VerifiedUpload) {
        self.store.discard(&upload.ticket.tmp_key, "its ticket was used").await;
    }

    async fn refuse(&self, ticket: &UploadTicket, err: FinalizeError) -> FinalizeError {
        if let Err(e) = self.tickets.reject(ticket.id, self.clock.now()).await {
            return FinalizeError::Unexpected(e);
        }
        // A refused object is deleted now; if that fails the sweeper retries.
        self.store.discard(&ticket.tmp_key, "its upload was refused").await;
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

/// What the checks of a copy found.
struct Checked {
    size: u64,
    /// SHA-256 (lower-case hex) of the bytes checked.
    sha256: String,
}

/// Why a check of a copy failed: the object was refused, or the store failed.
enum Refused {
    Object(FinalizeError),
    Store(StoreError),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// The sweeper failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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

    fn uploads(store: MockObjectStore, tickets: MockUploadTicketRepository) -> ImageUploadService {
        ImageUploadService::new(Arc::new(store), Arc::new(tickets), Arc::new(FixedClock::at(T0)))
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
                .verify(&policy(), "42", UserId::new(42), raw, Visibility::Public)
                .await
                .unwrap_err();
            assert!(matches!(err, FinalizeError::TicketNotFound), "{raw}");
        }
        let mut tickets = MockUploadTicketRepository::new();
        let mut foreign = ticket(&key(), TicketState::Issued, T0 + Duration::minutes(5));
        foreign.requested_by = UserId::new(7);
        tickets.expect_find_by_tmp_key().returning(move |_| Ok(Some(foreign.clone())));
        let err = uploads(MockObjectStore::new(), tickets)
            .verify(&policy(), "42", UserId::new(42), key().as_str(), Visibility::Public)
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
                .verify(&policy(), "42", UserId::new(42), key().as_str(), Visibility::Public)
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

    /// `bytes` padded with zeros to `size`.
    fn padded(mut bytes: Vec<u8>, size: u64) -> Vec<u8> {
        bytes.resize(usize::try_from(size).unwrap(), 0);
        bytes
    }

    /// A store whose copy of the upload holds `bytes` of `size`; every
    /// check reads the whole copy once, never the temporary key.
    fn store_with(bytes: Vec<u8>, size: u64, deletes: usize) -> MockObjectStore {
        let mut store = MockObjectStore::new();
        store.expect_copy().times(1).returning(|_, _, _| Ok(()));
        store
            .expect_head()
            .withf(|k| !k.is_temporary())
            .returning(move |_| Ok(Some(ObjectInfo { size, content_type: Some("image/png".into()) })));
        store
            .expect_read_range()
            .withf(move |k, r| !k.is_temporary() && *r == (0..size))
            .times(..=1)
            .returning(move |_, _| Ok(padded(bytes.clone(), size)));
        store.expect_delete().withf(|k| !k.is_temporary()).times(deletes).returning(|_| Ok(()));
        store
    }

    #[tokio::test]
    async fn nothing_uploaded_yet_keeps_the_ticket_usable() {
        let mut store = MockObjectStore::new();
        store.expect_copy().returning(|from, _, _| Err(StoreError::Missing(from.to_string())));
        let err = uploads(store, live_ticket_repo(false))
            .verify(&policy(), "42", UserId::new(42), key().as_str(), Visibility::Public)
            .await
            .unwrap_err();
        assert!(matches!(err, FinalizeError::NotUploaded));
    }

    #[tokio::test]
    async fn a_finalize_that_lost_the_race_for_its_ticket_is_told_so() {
        let mut store = MockObjectStore::new();
        store.expect_copy().returning(|from, _, _| Err(StoreError::Missing(from.to_string())));
        let mut tickets = MockUploadTicketRepository::new();
        let mut seq = mockall::Sequence::new();
        let issued = ticket(&key(), TicketState::Issued, T0 + Duration::minutes(5));
        let used = ticket(&key(), TicketState::Used, T0 + Duration::minutes(5));
        tickets.expect_find_by_tmp_key().times(1).in_sequence(&mut seq).returning(move |_| Ok(Some(issued.clone())));
        tickets.expect_find_by_tmp_key().times(1).in_sequence(&mut seq).returning(move |_| Ok(Some(used.clone())));
        let err = uploads(store, tickets)
            .verify(&policy(), "42", UserId::new(42), key().as_str(), Visibility::Public)
            .await
            .unwrap_err();
        assert!(matches!(err, FinalizeError::TicketUsed), "{err:?}");
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
            let mut store = store_with(bytes, size, 1);
            // The refused upload's temporary object goes too.
            store.expect_delete().withf(|k| k.is_temporary()).times(1).returning(|_| Ok(()));
            let err = uploads(store, live_ticket_repo(true))
                .verify(&policy(), "42", UserId::new(42), key().as_str(), Visibility::Public)
                .await
                .unwrap_err();
            assert!(check(&err), "{err:?}");
        }
    }

    #[tokio::test]
    async fn a_good_image_is_checked_after_its_copy_and_published_as_checked() {
        let mut store = MockObjectStore::new();
        let mut seq = mockall::Sequence::new();
        store
            .expect_copy()
            .withf(|from, to, t| {
                from == &key() && to.as_str().starts_with("pending/avatars/42/") && *t == ImageType::Png
            })
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Ok(()));
        store
            .expect_head()
            .withf(|k| k.is_private())
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(Some(ObjectInfo { size: 2048, content_type: None })));
        store
            .expect_read_range()
            .withf(|k, r| k.is_private() && *r == (0..2048))
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(padded(png(4096, 4096), 2048)));
        store.expect_public_url().returning(|k| format!("https://cdn/{k}"));
        store.expect_delete().never();
        let verified = uploads(store, live_ticket_repo(false))
            .verify(&policy(), "42", UserId::new(42), key().as_str(), Visibility::Private)
            .await
            .unwrap();
        assert!(verified.key.is_private() && verified.key.as_str().ends_with(".png"));
        assert_eq!(verified.size, 2048);
        let expected = Sha256::digest(padded(png(4096, 4096), 2048));
        assert_eq!(verified.sha256, format!("{expected:x}"), "the hash of the bytes checked");
        assert_eq!(verified.sha256.len(), 64);
    }

    #[tokio::test]
    async fn a_copy_read_short_is_a_store_failure_and_keeps_the_ticket_usable() {
        let mut store = MockObjectStore::new();
        store.expect_copy().returning(|_, _, _| Ok(()));
        store.expect_head().returning(|_| Ok(Some(ObjectInfo { size: 2048, content_type: None })));
        store.expect_read_range().returning(|_, _| Ok(png(10, 10)));
        store.expect_delete().withf(|k| !k.is_temporary()).times(1).returning(|_| Ok(()));
        let err = uploads(store, live_ticket_repo(false))
            .verify(&policy(), "42", UserId::new(42), key().as_str(), Visibility::Public)
            .await
            .unwrap_err();
        assert!(matches!(err, FinalizeError::Store(StoreError::Upstream(_))), "{err:?}");
    }

    #[tokio::test]
    async fn a_store_outage_leaves_the_ticket_usable() {
        let mut store = MockObjectStore::new();
        store.expect_copy().returning(|_, _, _| Err(StoreError::Unavailable(anyhow::anyhow!("connection refused"))));
        let err = uploads(store, live_ticket_repo(false))
            .verify(&policy(), "42", UserId::new(42), key().as_str(), Visibility::Public)
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
