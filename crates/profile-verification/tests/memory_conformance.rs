//! The in-memory adapter passes the port's conformance suite.

use async_trait::async_trait;
use profile_verification::UserSummary;
use profile_verification::memory::MemoryProfileRepository;
use profile_verification::testing::{StoryUsers, T0, event_story, profile_repository_story};
use shared_kernel::UserId;

/// The story's users, put straight into the repository.
struct Users<'a>(&'a MemoryProfileRepository);

#[async_trait]
impl StoryUsers for Users<'_> {
    async fn create_user(&self, n: u32, email_verified: bool) -> UserId {
        let id = UserId::new(i64::from(n));
        let summary = UserSummary {
            id,
            email: format!("u{n}@x.io"),
            email_verified,
            username: format!("u{n}"),
            display_name: format!("User {n}"),
        };
        self.0.put_user(summary, T0);
        id
    }
}

#[tokio::test]
async fn the_memory_repository_passes_the_profile_story() {
    let repo = MemoryProfileRepository::new();
    profile_repository_story(&repo, &Users(&repo)).await;
}

#[tokio::test]
async fn the_memory_repository_passes_the_event_story() {
    let repo = MemoryProfileRepository::new();
    event_story(&repo, &Users(&repo), &repo).await;
}
