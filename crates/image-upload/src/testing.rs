//! The conformance suite of the upload ports (feature `testing`): every
//! implementation of [`UploadTicketRepository`] MUST pass
//! [`ticket_repository_story`], and every [`ObjectStore`]
//! [`object_store_story`]. Adapters call them from their own tests against
//! their real backend, the way `object_store::integration` is used:
//!
//! ```text
//! #[tokio::test]
//! async fn tickets_conform() {
//!     let tickets = MyTicketRepository::connect(…).await;
//!     image_upload::testing::ticket_repository_story(&tickets, existing_user_id).await;
//! }
//!
//! #[tokio::test]
//! async fn the_store_conforms() {
//!     let store = MyObjectStore::connect(…).await;
//!     // How a client performs the presigned PUT against this store.
//!     image_upload::testing::object_store_story(&store, async |key, put, bytes| my_put(key, put, bytes).await).await;
//! }
//! ```
//!
//! A failed expectation panics with a message naming the rule.

use crate::error::StoreError;
use crate::model::{ImageType, ObjectKey, TicketId, TicketState, UploadTicket};
use crate::ports::{ObjectStore, PresignedPut, TriesUsed, UploadTicketRepository};
use shared_kernel::UserId;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// An issued avatar ticket of `owner`, created at `created_at`, valid ten minutes.
pub fn avatar_ticket(owner: UserId, created_at: OffsetDateTime) -> UploadTicket {
    UploadTicket {
        id: TicketId::new(),
        purpose: "avatar".into(),
        owner: owner.to_string(),
        requested_by: owner,
        tmp_key: ObjectKey::parse(&format!("tmp/avatars/{owner}/{}.png", uuid::Uuid::now_v7()))
            .expect("a generated key is valid"),
        image_type: ImageType::Png,
        state: TicketState::Issued,
        created_at,
        expires_at: created_at + Duration::minutes(10),
    }
}

/// Tickets: the exact per-owner limit and what counts against it, the
/// round trip, rejection, and the sweeper's view. `owner` is a user the
/// repository accepts as a ticket's requester (one that exists, for a
/// repository that checks). Uses the owner's `avatar` window around
/// 2026-06-14; call it once per repository and owner.
pub async fn ticket_repository_story(tickets: &dyn UploadTicketRepository, owner: UserId) {
    let t0 = datetime!(2026-06-14 12:00:00 UTC);
    let window_start = t0 - Duration::days(1);

    let mut issued = Vec::new();
    for i in 0..3 {
        let t = avatar_ticket(owner, t0 + Duration::minutes(i));
        assert_eq!(
            tickets.insert_within_limit(&t, window_start, 3).await.unwrap(),
            Ok(()),
            "try {i} is within the limit"
        );
        issued.push(t);
    }
    let refused = tickets.insert_within_limit(&avatar_ticket(owner, t0 + Duration::minutes(5)), window_start, 3).await;
    assert_eq!(refused.unwrap(), Err(TriesUsed { count: 3, oldest: Some(t0) }), "the fourth try is refused");
    let other_purpose = UploadTicket { purpose: "logo".into(), ..avatar_ticket(owner, t0 + Duration::minutes(5)) };
    assert_eq!(
        tickets.insert_within_limit(&other_purpose, window_start, 1).await.unwrap(),
        Ok(()),
        "each purpose has its own window"
    );
    let later_window = t0 + Duration::minutes(1);
    assert_eq!(
        tickets.tries_used("avatar", &owner.to_string(), later_window).await.unwrap(),
        TriesUsed { count: 1, oldest: Some(t0 + Duration::minutes(2)) },
        "only tickets created after the window's start count"
    );

    let found = tickets.find_by_tmp_key(&issued[0].tmp_key).await.unwrap().expect("found by its key");
    assert_eq!(found, issued[0], "a ticket round-trips unchanged");
    let none = ObjectKey::parse("tmp/avatars/0/none.png").unwrap();
    assert!(tickets.find_by_tmp_key(&none).await.unwrap().is_none());

    // A rejected ticket stops counting, and frees a try.
    tickets.reject(issued[0].id, t0 + Duration::minutes(6)).await.unwrap();
    assert_eq!(tickets.find_by_tmp_key(&issued[0].tmp_key).await.unwrap().unwrap().state, TicketState::Rejected);
    assert_eq!(
        tickets.tries_used("avatar", &owner.to_string(), window_start).await.unwrap(),
        TriesUsed { count: 2, oldest: Some(t0 + Duration::minutes(1)) },
        "a rejected ticket does not count"
    );
    let again = avatar_ticket(owner, t0 + Duration::minutes(7));
    assert_eq!(tickets.insert_within_limit(&again, window_start, 3).await.unwrap(), Ok(()));
    tickets.reject(again.id, t0 + Duration::minutes(8)).await.unwrap();

    // The sweeper sees every expired, unswept ticket once, in any state.
    let after_expiry = t0 + Duration::hours(1);
    let expired = tickets.expired_unswept(after_expiry, 100).await.unwrap();
    assert_eq!(expired.len(), 5, "every ticket of the story has expired");
    let limited = tickets.expired_unswept(after_expiry, 2).await.unwrap();
    assert_eq!(limited.iter().map(|t| t.id).collect::<Vec<_>>(), [issued[0].id, issued[1].id], "earliest expiry first");
    assert!(tickets.expired_unswept(t0, 100).await.unwrap().is_empty());
    for t in &expired {
        tickets.mark_swept(t.id, after_expiry).await.unwrap();
        tickets.mark_swept(t.id, after_expiry).await.unwrap();
    }
    assert!(tickets.expired_unswept(after_expiry, 100).await.unwrap().is_empty(), "a swept ticket is not listed again");
}

/// A PNG signature and header followed by `len - 33` bytes of a pattern, so
/// that every range of it is distinguishable.
fn patterned_png(len: usize) -> Vec<u8> {
    let mut bytes = vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89,
    ];
    bytes.extend((0..len.saturating_sub(bytes.len())).map(|i| (i % 251) as u8));
    bytes
}

fn key(raw: &str) -> ObjectKey {
    ObjectKey::parse(raw).expect("the suite's keys are valid")
}

/// An object store: missing objects, the presigned `PUT` a client performs
/// (`upload` is how a client does it against this store: an HTTP `PUT` for
/// S3, the embedded route's checks for the local store), `HEAD`, range
/// reads that never return more than asked, copies that store the given
/// type and replace the target, deletes that are idempotent, and URLs that
/// name the key. Uses keys under `tmp/conformance/`, `pending/conformance/`
/// and `avatars/conformance/`.
pub async fn object_store_story<S, U>(store: &S, upload: U)
where
    S: ObjectStore + ?Sized,
    U: AsyncFn(ObjectKey, PresignedPut, Vec<u8>) -> anyhow::Result<()>,
{
    let run = uuid::Uuid::now_v7();
    let tmp = key(&format!("tmp/conformance/{run}.png"));
    let public = key(&format!("avatars/conformance/{run}.png"));
    let private = key(&format!("pending/conformance/{run}.png"));

    // Nothing there yet.
    assert!(store.head(&tmp).await.expect("HEAD of a missing object").is_none(), "a missing object has no HEAD");
    assert!(
        matches!(store.read_range(&tmp, 0..8).await, Err(StoreError::Missing(_))),
        "reading a missing object is Missing"
    );
    assert!(
        matches!(store.copy(&tmp, &public, ImageType::Png).await, Err(StoreError::Missing(_))),
        "copying a missing object is Missing"
    );
    assert!(store.head(&public).await.unwrap().is_none(), "a copy of a missing object writes nothing");
    store.delete(&tmp).await.expect("deleting a missing object succeeds");

    // The client's presigned upload.
    let presigned = store.presign_put(&tmp, ImageType::Png, Duration::minutes(10)).await.expect("presigning a PUT");
    assert!(
        presigned.headers.iter().any(|(name, value)| name.eq_ignore_ascii_case("content-type") && value == "image/png"),
        "the presigned PUT names the signed Content-Type: {:?}",
        presigned.headers
    );
    let bytes = patterned_png(70_000);
    upload(tmp.clone(), presigned, bytes.clone()).await.expect("the client's PUT is accepted");
    let info = store.head(&tmp).await.unwrap().expect("an uploaded object has a HEAD");
    assert_eq!(info.size, bytes.len() as u64, "HEAD reports the uploaded size");
    assert_eq!(info.content_type.as_deref(), Some("image/png"), "HEAD reports the signed type");

    // Range reads: exactly the range, shorter at the end, empty past it.
    assert_eq!(store.read_range(&tmp, 0..8).await.unwrap(), bytes[..8], "a range from the start");
    assert_eq!(store.read_range(&tmp, 1000..1100).await.unwrap(), bytes[1000..1100], "a range inside");
    let len = bytes.len() as u64;
    assert_eq!(
        store.read_range(&tmp, len - 10..len + 100).await.unwrap(),
        bytes[bytes.len() - 10..],
        "a range over the end"
    );
    assert!(store.read_range(&tmp, len + 1..len + 50).await.unwrap().is_empty(), "a range past the end is empty");

    // Copies store the given type and replace what was there.
    store.copy(&tmp, &public, ImageType::Png).await.expect("copying");
    let copied = store.head(&public).await.unwrap().expect("the copy exists");
    assert_eq!((copied.size, copied.content_type.as_deref()), (len, Some("image/png")));
    assert_eq!(store.read_range(&public, 0..len).await.unwrap(), bytes, "the copy holds the same bytes");
    store.copy(&tmp, &private, ImageType::Png).await.expect("copying to a private key");
    let smaller = patterned_png(100);
    let again = store.presign_put(&tmp, ImageType::Png, Duration::minutes(10)).await.unwrap();
    upload(tmp.clone(), again, smaller.clone()).await.expect("a second PUT to the same key is accepted");
    store.copy(&tmp, &public, ImageType::Png).await.expect("copying over an existing object");
    assert_eq!(store.read_range(&public, 0..len).await.unwrap(), smaller, "a copy replaces the target");

    // URLs name the key; presigning performs no I/O that could fail here.
    assert!(store.public_url(&public).contains(public.as_str()), "the public URL names the key");
    let signed = store.presign_get(&private, Duration::minutes(5)).await.expect("presigning a GET");
    assert!(signed.contains(private.as_str()), "the signed URL names the key: {signed}");

    // Deletes are idempotent and leave the other objects alone.
    store.delete(&tmp).await.expect("deleting");
    assert!(store.head(&tmp).await.unwrap().is_none(), "a deleted object is gone");
    store.delete(&tmp).await.expect("deleting twice succeeds");
    assert!(store.head(&public).await.unwrap().is_some(), "deleting one key keeps the others");
    for k in [&public, &private] {
        store.delete(k).await.unwrap();
        assert!(store.head(k).await.unwrap().is_none());
    }
}
