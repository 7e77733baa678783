//! The in-memory adapter passes the port's conformance suite.

use image_upload::memory::MemoryUploadTicketRepository;
use std::sync::Arc;
use users::memory::MemoryUserRepository;
use users::testing;

#[tokio::test]
async fn the_memory_repository_passes_the_user_story() {
    testing::user_repository_story(&MemoryUserRepository::default()).await;
}

#[tokio::test]
async fn the_memory_repository_passes_the_upload_story() {
    let tickets = Arc::new(MemoryUploadTicketRepository::new());
    testing::upload_story(&MemoryUserRepository::new(Arc::clone(&tickets)), tickets.as_ref()).await;
}

#[tokio::test]
async fn the_memory_repository_passes_the_administration_story() {
    testing::administration_story(&MemoryUserRepository::default()).await;
}

#[tokio::test]
async fn the_memory_repository_passes_the_event_story() {
    let repo = MemoryUserRepository::default();
    testing::event_story(&repo, &repo).await;
}
