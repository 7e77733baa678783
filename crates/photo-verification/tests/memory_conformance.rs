//! The in-memory adapter passes the port's conformance suite, and racing
//! opens for one user leave exactly one PENDING verification.

use async_trait::async_trait;
use image_upload::memory::MemoryUploadTicketRepository;
use photo_verification::memory::MemoryPhotoVerificationRepository;
use photo_verification::testing::{StoryUsers, T0, event_story, new_verification, photo_repository_story, ticket};
use photo_verification::{
    PhotoVerification, PhotoVerificationRepository, StatusFilter, UserSummary, VerificationFilter, VerificationStatus,
};
use shared_kernel::{DiscordId, PageRequest, UserId};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// The story's users, put straight into the repository.
struct Users<'a> {
    photos: &'a MemoryPhotoVerificationRepository,
    last_id: AtomicI64,
}

#[async_trait]
impl StoryUsers for Users<'_> {
    async fn create_user(&self, name: &str, discord_id: Option<DiscordId>) -> UserId {
        let id = UserId::new(self.last_id.fetch_add(1, Ordering::Relaxed) + 1);
        let summary =
            UserSummary { id, username: name.to_owned(), display_name: format!("{name} L"), avatar_url: None };
        self.photos.put_user(summary, discord_id, None);
        id
    }

    async fn avatar_url(&self, id: UserId) -> Option<String> {
        self.photos.user(id).and_then(|u| u.avatar_url)
    }
}

#[tokio::test]
async fn the_memory_repository_passes_the_photo_story() {
    let tickets = Arc::new(MemoryUploadTicketRepository::new());
    let photos = MemoryPhotoVerificationRepository::new(Arc::clone(&tickets));
    let users = Users { photos: &photos, last_id: AtomicI64::new(0) };
    photo_repository_story(&photos, tickets.as_ref(), &users).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_leave_exactly_one_pending() {
    let tickets = Arc::new(MemoryUploadTicketRepository::new());
    let photos = Arc::new(MemoryPhotoVerificationRepository::new(Arc::clone(&tickets)));
    let ada = UserId::new(1);
    let summary = UserSummary { id: ada, username: "ada".into(), display_name: "Ada".into(), avatar_url: None };
    photos.put_user(summary, None, None);
    let mut tasks = Vec::new();
    for n in 0..20 {
        let id = ticket(tickets.as_ref(), ada).await;
        let t = PhotoVerification::open(new_verification(ada, None, None, n), T0);
        let photos = Arc::clone(&photos);
        tasks.push(tokio::spawn(async move { photos.open(id, &t, T0).await }));
    }
    for task in tasks {
        assert!(task.await.unwrap().is_ok(), "every open succeeds by superseding");
    }
    let filter = |status| VerificationFilter { user_id: Some(ada), username: None, status };
    let page = PageRequest::parse(Some(100), None).unwrap();
    let pending = photos.list(&filter(StatusFilter::Only(VerificationStatus::Pending)), &page).await.unwrap();
    assert_eq!(pending.items.len(), 1);
    let superseded = photos.list(&filter(StatusFilter::Only(VerificationStatus::Superseded)), &page).await.unwrap();
    assert_eq!(superseded.items.len(), 19);
}

#[tokio::test]
async fn the_memory_repository_passes_the_event_story() {
    let tickets = Arc::new(MemoryUploadTicketRepository::new());
    let photos = MemoryPhotoVerificationRepository::new(Arc::clone(&tickets));
    let users = Users { photos: &photos, last_id: AtomicI64::new(0) };
    event_story(&photos, tickets.as_ref(), &users, &photos).await;
}
