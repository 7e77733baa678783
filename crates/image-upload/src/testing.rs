//! The conformance suite of the upload ports (feature `testing`): every
//! implementation of [`UploadTicketRepository`] MUST pass
//! [`ticket_repository_story`]. Adapters call it from their own tests
//! against their real backend, the way `object_store::integration` is used:
//!
//! ```text
//! #[tokio::test]
//! async fn tickets_conform() {
//!     let tickets = MyTicketRepository::connect(…).await;
//!     image_upload::testing::ticket_repository_story(&tickets, existing_user_id).await;
//! }
//! ```
//!
//! A failed expectation panics with a message naming the rule.

use crate::model::{ImageType, ObjectKey, TicketId, TicketState, UploadTicket};
use crate::ports::{TriesUsed, UploadTicketRepository};
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
