//! The avatar: seed 003's two-step upload applied to the signed-in user
//! (`tmp/avatars/{userId}/…` → `avatars/{userId}/…`), and removal.

use crate::error::{AvatarError, SetAvatarError};
use crate::ports::UserRepository;
use image_upload::{ImageUpload, ImageUploadService, IssuedTicket, VerifiedUpload, Visibility};
use shared_kernel::{Actor, Clock};
use std::sync::Arc;

/// The avatar use cases.
#[derive(Clone)]
pub struct AvatarService {
    uploads: ImageUploadService,
    users: Arc<dyn UserRepository>,
    clock: Arc<dyn Clock>,
    policy: ImageUpload,
}

impl AvatarService {
    /// Builds the use cases with the avatar `policy`.
    pub fn new(
        uploads: ImageUploadService,
        users: Arc<dyn UserRepository>,
        clock: Arc<dyn Clock>,
        policy: ImageUpload,
    ) -> Self {
        Self { uploads, users, clock, policy }
    }

    /// The avatar upload policy.
    pub fn policy(&self) -> &ImageUpload {
        &self.policy
    }

    /// A presigned upload for the caller's new avatar; consumes one try.
    pub async fn ticket(&self, actor: &Actor, content_type: &str) -> Result<IssuedTicket, AvatarError> {
        let owner = actor.user_id.to_string();
        Ok(self.uploads.issue_ticket(&self.policy, &owner, actor.user_id, content_type).await?)
    }

    /// Checks the caller's upload and copies it to its final key (a private
    /// one for photo verification, which decides what happens next), without
    /// using it yet.
    pub async fn verify(
        &self,
        actor: &Actor,
        tmp_key: &str,
        visibility: Visibility,
    ) -> Result<VerifiedUpload, AvatarError> {
        let owner = actor.user_id.to_string();
        Ok(self.uploads.verify(&self.policy, &owner, actor.user_id, tmp_key, visibility).await?)
    }

    /// After `upload`'s ticket was marked used: deletes its temporary object.
    pub async fn used(&self, upload: &VerifiedUpload) {
        self.uploads.used(upload).await;
    }

    /// Deletes the final copy of a verified upload that a later step
    /// refused before anything referenced it; its ticket stays issued.
    pub async fn unused(&self, upload: &VerifiedUpload) {
        self.uploads.unused(upload).await;
    }

    /// Makes a verified upload the caller's avatar and deletes the previous
    /// avatar object after the commit. If a concurrent finalize of the same
    /// ticket won, this copy is deleted and the ticket counts as used.
    pub async fn apply(&self, actor: &Actor, upload: VerifiedUpload) -> Result<String, AvatarError> {
        let swap = self.users.set_avatar(actor.user_id, upload.ticket.id, &upload.key, &upload.url, self.clock.now());
        self.uploads.commit(&upload.key, swap, Option::as_ref).await?;
        self.uploads.used(&upload).await;
        Ok(upload.url)
    }

    /// Verifies and applies in one call (photo verification off).
    pub async fn finalize(&self, actor: &Actor, tmp_key: &str) -> Result<String, AvatarError> {
        let upload = self.verify(actor, tmp_key, Visibility::Public).await?;
        self.apply(actor, upload).await
    }

    /// Removes the caller's avatar and deletes its object.
    pub async fn remove(&self, actor: &Actor) -> Result<(), AvatarError> {
        match self.users.clear_avatar(actor.user_id, self.clock.now()).await {
            Ok(Some(previous)) => {
                self.uploads.removed(&previous).await;
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(SetAvatarError::UserGone) => Err(AvatarError::UserGone),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockUserRepository;
    use image_upload::{
        FinalizeError, ImageType, MockObjectStore, MockUploadTicketRepository, ObjectKey, TicketId, TicketState,
        UploadTicket,
    };
    use shared_kernel::{FixedClock, PlatformRole, UserId};
    use time::macros::datetime;

    fn actor() -> Actor {
        Actor { user_id: UserId::new(42), role: PlatformRole::User }
    }

    fn verified() -> VerifiedUpload {
        let tmp = ObjectKey::parse("tmp/avatars/42/a.png").unwrap();
        VerifiedUpload {
            ticket: UploadTicket {
                id: TicketId::new(),
                purpose: "avatar".into(),
                owner: "42".into(),
                requested_by: UserId::new(42),
                tmp_key: tmp,
                image_type: ImageType::Png,
                state: TicketState::Issued,
                created_at: datetime!(2026-06-14 10:00 UTC),
                expires_at: datetime!(2026-06-14 10:10 UTC),
            },
            key: ObjectKey::parse("avatars/42/new.png").unwrap(),
            url: "https://cdn/avatars/42/new.png".into(),
            size: 10,
            sha256: "00".repeat(32),
        }
    }

    fn service(store: MockObjectStore, users: MockUserRepository) -> AvatarService {
        let clock = Arc::new(FixedClock::at(datetime!(2026-06-14 10:05 UTC)));
        let uploads =
            ImageUploadService::new(Arc::new(store), Arc::new(MockUploadTicketRepository::new()), clock.clone());
        AvatarService::new(uploads, Arc::new(users), clock, ImageUpload::avatar(5, time::Duration::days(1)))
    }

    #[tokio::test]
    async fn applying_deletes_the_previous_avatar_after_the_commit() {
        let mut users = MockUserRepository::new();
        users.expect_set_avatar().returning(|_, _, _, _, _| Ok(Some(ObjectKey::parse("avatars/42/old.png").unwrap())));
        let mut store = MockObjectStore::new();
        store.expect_delete().withf(|k| k.as_str() == "avatars/42/old.png").times(1).returning(|_| Ok(()));
        store.expect_delete().withf(|k| k.is_temporary()).times(1).returning(|_| Ok(()));
        let url = service(store, users).apply(&actor(), verified()).await.unwrap();
        assert_eq!(url, "https://cdn/avatars/42/new.png");
    }

    #[tokio::test]
    async fn losing_a_finalize_race_deletes_the_losers_copy() {
        let mut users = MockUserRepository::new();
        users.expect_set_avatar().returning(|_, _, _, _, _| Err(SetAvatarError::TicketUsed));
        let mut store = MockObjectStore::new();
        store.expect_delete().withf(|k| k.as_str() == "avatars/42/new.png").times(1).returning(|_| Ok(()));
        let err = service(store, users).apply(&actor(), verified()).await.unwrap_err();
        assert!(matches!(err, AvatarError::Finalize(FinalizeError::TicketUsed)));
    }

    #[tokio::test]
    async fn removing_deletes_the_object_and_removing_nothing_is_fine() {
        let mut users = MockUserRepository::new();
        let mut seq = mockall::Sequence::new();
        users
            .expect_clear_avatar()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(Some(ObjectKey::parse("avatars/42/old.png").unwrap())));
        users.expect_clear_avatar().times(1).in_sequence(&mut seq).returning(|_, _| Ok(None));
        let mut store = MockObjectStore::new();
        store.expect_delete().times(1).returning(|_| Ok(()));
        let avatars = service(store, users);
        avatars.remove(&actor()).await.unwrap();
        avatars.remove(&actor()).await.unwrap();
    }
}
