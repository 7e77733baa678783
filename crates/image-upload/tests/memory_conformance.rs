//! The in-memory adapters pass the ports' conformance suite, and the rate
//! limit holds when many threads ask at once.

use image_upload::UploadTicketRepository;
use image_upload::memory::{MemoryObjectStore, MemoryUploadTicketRepository};
use image_upload::testing::{avatar_ticket, object_store_story, ticket_repository_story};
use shared_kernel::UserId;
use std::sync::Arc;
use time::Duration;
use time::macros::datetime;

#[tokio::test]
async fn the_memory_ticket_repository_passes_the_ticket_story() {
    ticket_repository_story(&MemoryUploadTicketRepository::new(), UserId::new(1)).await;
}

#[tokio::test]
async fn the_memory_object_store_passes_the_object_store_story() {
    let store = MemoryObjectStore::new();
    object_store_story(&store, async |key, put, bytes| {
        let content_type = put.headers.iter().find(|(name, _)| name == "Content-Type").map(|(_, v)| v.as_str());
        store.put(&key, bytes, content_type);
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_tickets_never_exceed_the_limit() {
    let tickets = Arc::new(MemoryUploadTicketRepository::new());
    let t0 = datetime!(2026-06-14 12:00:00 UTC);
    let owner = UserId::new(7);
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let tickets = Arc::clone(&tickets);
            tokio::spawn(async move {
                let ticket = avatar_ticket(owner, t0 + Duration::seconds(i));
                tickets.insert_within_limit(&ticket, t0 - Duration::days(1), 5).await.unwrap().is_ok()
            })
        })
        .collect();
    let mut issued = 0;
    for task in tasks {
        issued += u32::from(task.await.unwrap());
    }
    assert_eq!(issued, 5);
    assert_eq!(tickets.count_tries("avatar", "7", t0 - Duration::days(1)).count, 5);
}
