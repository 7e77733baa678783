//! The photo verification use cases: open (called by the app's avatar
//! finalize when the feature is on), approve, reject, refresh the Discord
//! avatar, and the queries. Object deletions happen only after the commit
//! that made an object unreferenced, and a failed deletion costs storage,
//! never correctness.

use crate::error::{DecisionError, OpenError, ReviewError};
use crate::model::{
    ApprovalSide, NewVerification, PhotoEvent, PhotoVerification, PhotoVerificationId, RejectionReason, Transition,
    VerificationStatus,
};
use crate::ports::{
    DiscordAvatars, Opened, PhotoVerificationRepository, Saved, StatusFilter, VerificationFilter, VerificationWithUser,
};
use image_upload::{ObjectKey, ObjectStore, TicketId};
use shared_kernel::{Actor, Clock, DiscordId, Page, PageRequest, UserId};
use std::sync::Arc;
use time::OffsetDateTime;

/// The photo verification use cases.
#[derive(Clone)]
pub struct PhotoVerifications {
    repo: Arc<dyn PhotoVerificationRepository>,
    discord: Arc<dyn DiscordAvatars>,
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
}

impl PhotoVerifications {
    /// Builds the use cases.
    pub fn new(
        repo: Arc<dyn PhotoVerificationRepository>,
        discord: Arc<dyn DiscordAvatars>,
        store: Arc<dyn ObjectStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { repo, discord, store, clock }
    }

    async fn delete_quietly(&self, key: &ObjectKey) {
        // A leftover object costs storage, not correctness (as in the avatar flow).
        let _ = self.store.delete(key).await;
    }

    /// Opens a PENDING verification for a verified upload, superseding the
    /// user's pending one (whose image is deleted after the commit). The
    /// Discord avatar is read first when a Discord id is linked; if Discord
    /// cannot be read now the side stays unread and a reviewer refreshes it.
    /// If a concurrent finalize used the ticket first, the upload's copy is deleted.
    pub async fn open(&self, ticket: TicketId, mut new: NewVerification) -> Result<Opened, OpenError> {
        if new.discord.is_none()
            && let Some(id) = &new.discord_id
        {
            new.discord = self.discord.current_avatar(id).await.ok();
        }
        let key = new.object_key.clone();
        let now = self.clock.now();
        let transition = PhotoVerification::open(new, now);
        match self.repo.open(ticket, &transition, now).await {
            Ok(opened) => {
                if let Some(old) = &opened.superseded
                    && old.profile.object_key != key
                {
                    self.delete_quietly(&old.profile.object_key).await;
                }
                Ok(opened)
            }
            Err(e) => {
                if matches!(e, OpenError::TicketUsed | OpenError::UserGone) {
                    self.delete_quietly(&key).await;
                }
                Err(e)
            }
        }
    }

    /// Loads, transitions and saves with compare-and-set; then deletes what
    /// the decision made unreferenced.
    async fn decide(
        &self,
        id: PhotoVerificationId,
        transition: impl FnOnce(&PhotoVerification, OffsetDateTime) -> Result<Transition, DecisionError>,
    ) -> Result<PhotoVerification, ReviewError> {
        let current = self.repo.find(id).await?.ok_or(ReviewError::NotFound)?;
        self.decide_on(current, transition).await
    }

    async fn decide_on(
        &self,
        current: PhotoVerification,
        transition: impl FnOnce(&PhotoVerification, OffsetDateTime) -> Result<Transition, DecisionError>,
    ) -> Result<PhotoVerification, ReviewError> {
        // A decided record is answered with itself, so the caller sees who won.
        let next = transition(&current, self.clock.now()).map_err(|e| match e {
            DecisionError::AlreadyDecided { .. } => ReviewError::AlreadyDecided(Box::new(current.clone())),
            other => other.into(),
        })?;
        if !next.changed() {
            return Ok(next.record);
        }
        match self.repo.save(current.version, &next).await? {
            Saved::Conflict(now_stored) => Err(ReviewError::Conflict(now_stored)),
            Saved::Written { replaced_avatar } => {
                match next.record.status {
                    VerificationStatus::Accepted => {
                        if let Some(old) = replaced_avatar.filter(|k| *k != next.record.profile.object_key) {
                            self.delete_quietly(&old).await;
                        }
                    }
                    VerificationStatus::Rejected => self.delete_quietly(&next.record.profile.object_key).await,
                    _ => {}
                }
                Ok(next.record)
            }
        }
    }

    /// A superuser approves one side or both (`PATCH /picture/verify/{id}`).
    pub async fn approve(
        &self,
        actor: &Actor,
        id: PhotoVerificationId,
        side: ApprovalSide,
    ) -> Result<PhotoVerification, ReviewError> {
        self.decide(id, |v, now| v.approve(actor, side, now)).await
    }

    /// A superuser rejects with a reason (`PATCH /picture/reject/{id}`).
    pub async fn reject(
        &self,
        actor: &Actor,
        id: PhotoVerificationId,
        reason: &RejectionReason,
    ) -> Result<PhotoVerification, ReviewError> {
        self.decide(id, |v, now| v.reject(actor, reason, now)).await
    }

    /// Re-reads the Discord avatar into the PENDING verification of the user
    /// linked to `discord_id`.
    pub async fn refresh_discord(
        &self,
        actor: &Actor,
        discord_id: &DiscordId,
    ) -> Result<PhotoVerification, ReviewError> {
        if !actor.is_superuser() {
            return Err(DecisionError::Forbidden.into());
        }
        let current = self.repo.pending_for_discord(discord_id).await?.ok_or(ReviewError::NoPendingVerification)?;
        let avatar = self.discord.current_avatar(discord_id).await?;
        self.decide_on(current, |v, now| v.refresh_discord(actor, discord_id, avatar, now)).await
    }

    /// Every user's verifications (superusers; the app checks the role).
    pub async fn list(
        &self,
        filter: &VerificationFilter,
        page: &PageRequest,
    ) -> Result<Page<VerificationWithUser>, ReviewError> {
        Ok(self.repo.list(filter, page).await?)
    }

    /// One user's verifications, newest first: the user themself or a superuser.
    pub async fn list_for_user(
        &self,
        actor: &Actor,
        user_id: UserId,
        status: StatusFilter,
        page: &PageRequest,
    ) -> Result<Page<VerificationWithUser>, ReviewError> {
        if actor.user_id != user_id && !actor.is_superuser() {
            return Err(ReviewError::PictureForbidden);
        }
        let filter = VerificationFilter { user_id: Some(user_id), username: None, status };
        Ok(self.repo.list(&filter, page).await?)
    }

    /// A verification's event log (superusers; the app checks the role).
    pub async fn events(&self, id: PhotoVerificationId) -> Result<Vec<PhotoEvent>, ReviewError> {
        if self.repo.find(id).await?.is_none() {
            return Err(ReviewError::NotFound);
        }
        Ok(self.repo.events(id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DiscordError;
    use crate::model::DiscordAvatar;
    use crate::ports::{MockDiscordAvatars, MockPhotoVerificationRepository};
    use image_upload::MockObjectStore;
    use shared_kernel::{FixedClock, PlatformRole};
    use time::macros::datetime;

    fn root() -> Actor {
        Actor { user_id: UserId::new(1), role: PlatformRole::Superuser }
    }

    fn new_verification(discord: bool) -> NewVerification {
        NewVerification {
            user_id: UserId::new(42),
            discord_id: discord.then(|| DiscordId::parse("80351110224678912").unwrap()),
            current_profile_url: None,
            url: "https://cdn/avatars/42/new.png".into(),
            object_key: ObjectKey::parse("avatars/42/new.png").unwrap(),
            sha256: "00".repeat(32),
            discord: None,
        }
    }

    fn pending() -> PhotoVerification {
        PhotoVerification::open(new_verification(false), datetime!(2026-06-14 10:00 UTC)).record
    }

    fn service(
        repo: MockPhotoVerificationRepository,
        discord: MockDiscordAvatars,
        store: MockObjectStore,
    ) -> PhotoVerifications {
        let clock = Arc::new(FixedClock::at(datetime!(2026-06-14 10:05 UTC)));
        PhotoVerifications::new(Arc::new(repo), Arc::new(discord), Arc::new(store), clock)
    }

    #[tokio::test]
    async fn opening_reads_the_discord_avatar_and_deletes_the_superseded_image() {
        let mut discord = MockDiscordAvatars::new();
        discord
            .expect_current_avatar()
            .times(1)
            .returning(|_| Ok(DiscordAvatar { url: "https://cdn/d.png".into(), hash: Some("h".into()) }));
        let mut old = pending();
        old.profile.object_key = ObjectKey::parse("avatars/42/old.png").unwrap();
        let mut repo = MockPhotoVerificationRepository::new();
        repo.expect_open().returning(move |_, t, _| {
            assert_eq!(t.record.discord.avatar_hash.as_deref(), Some("h"));
            Ok(Opened { verification: t.record.clone(), superseded: Some(old.clone()) })
        });
        let mut store = MockObjectStore::new();
        store.expect_delete().withf(|k| k.as_str() == "avatars/42/old.png").times(1).returning(|_| Ok(()));
        let opened = service(repo, discord, store).open(TicketId::new(), new_verification(true)).await.unwrap();
        assert_eq!(opened.verification.status, VerificationStatus::Pending);
    }

    #[tokio::test]
    async fn an_unreadable_discord_avatar_does_not_block_the_upload() {
        let mut discord = MockDiscordAvatars::new();
        discord.expect_current_avatar().returning(|_| Err(DiscordError::NotConfigured));
        let mut repo = MockPhotoVerificationRepository::new();
        repo.expect_open().returning(|_, t, _| Ok(Opened { verification: t.record.clone(), superseded: None }));
        let opened =
            service(repo, discord, MockObjectStore::new()).open(TicketId::new(), new_verification(true)).await.unwrap();
        assert!(opened.verification.discord.fetched_at.is_none());
    }

    #[tokio::test]
    async fn losing_the_ticket_race_deletes_the_copy() {
        let mut repo = MockPhotoVerificationRepository::new();
        repo.expect_open().returning(|_, _, _| Err(OpenError::TicketUsed));
        let mut store = MockObjectStore::new();
        store.expect_delete().withf(|k| k.as_str() == "avatars/42/new.png").times(1).returning(|_| Ok(()));
        let err = service(repo, MockDiscordAvatars::new(), store)
            .open(TicketId::new(), new_verification(false))
            .await
            .unwrap_err();
        assert!(matches!(err, OpenError::TicketUsed));
    }

    #[tokio::test]
    async fn accepting_deletes_the_replaced_avatar_after_the_commit() {
        let v = pending();
        let id = v.id;
        let mut repo = MockPhotoVerificationRepository::new();
        repo.expect_find().returning(move |_| Ok(Some(v.clone())));
        repo.expect_save()
            .withf(|version, t| *version == 1 && t.record.status == VerificationStatus::Accepted)
            .returning(|_, _| {
                Ok(Saved::Written { replaced_avatar: Some(ObjectKey::parse("avatars/42/old.png").unwrap()) })
            });
        let mut store = MockObjectStore::new();
        store.expect_delete().withf(|k| k.as_str() == "avatars/42/old.png").times(1).returning(|_| Ok(()));
        let v = service(repo, MockDiscordAvatars::new(), store).approve(&root(), id, ApprovalSide::Both).await.unwrap();
        assert_eq!(v.status, VerificationStatus::Accepted);
    }

    #[tokio::test]
    async fn rejecting_deletes_the_requested_image() {
        let v = pending();
        let id = v.id;
        let mut repo = MockPhotoVerificationRepository::new();
        repo.expect_find().returning(move |_| Ok(Some(v.clone())));
        repo.expect_save().returning(|_, _| Ok(Saved::Written { replaced_avatar: None }));
        let mut store = MockObjectStore::new();
        store.expect_delete().withf(|k| k.as_str() == "avatars/42/new.png").times(1).returning(|_| Ok(()));
        let reason = RejectionReason::parse("blurry").unwrap();
        let v = service(repo, MockDiscordAvatars::new(), store).reject(&root(), id, &reason).await.unwrap();
        assert_eq!(v.status, VerificationStatus::Rejected);
    }

    #[tokio::test]
    async fn a_lost_compare_and_set_is_a_conflict_carrying_the_current_record() {
        let v = pending();
        let id = v.id;
        let stored = v.approve(&root(), ApprovalSide::Profile, v.created_at).unwrap().record;
        let mut repo = MockPhotoVerificationRepository::new();
        repo.expect_find().returning(move |_| Ok(Some(v.clone())));
        let winner = stored.clone();
        repo.expect_save().returning(move |_, _| Ok(Saved::Conflict(Box::new(winner.clone()))));
        let err = service(repo, MockDiscordAvatars::new(), MockObjectStore::new())
            .approve(&root(), id, ApprovalSide::Profile)
            .await
            .unwrap_err();
        match err {
            ReviewError::Conflict(current) => assert_eq!(*current, stored),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn acting_on_a_decided_verification_answers_with_the_record() {
        let v = pending().reject(&root(), &RejectionReason::parse("no").unwrap(), datetime!(2026-06-14 10:01 UTC));
        let decided = v.unwrap().record;
        let id = decided.id;
        let stored = decided.clone();
        let mut repo = MockPhotoVerificationRepository::new();
        repo.expect_find().returning(move |_| Ok(Some(stored.clone())));
        let err = service(repo, MockDiscordAvatars::new(), MockObjectStore::new())
            .approve(&root(), id, ApprovalSide::Both)
            .await
            .unwrap_err();
        match err {
            ReviewError::AlreadyDecided(current) => assert_eq!(*current, decided),
            other => panic!("expected AlreadyDecided, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn refreshing_without_a_pending_verification_is_a_typed_error() {
        let mut repo = MockPhotoVerificationRepository::new();
        repo.expect_pending_for_discord().returning(|_| Ok(None));
        let id = DiscordId::parse("80351110224678912").unwrap();
        let err = service(repo, MockDiscordAvatars::new(), MockObjectStore::new())
            .refresh_discord(&root(), &id)
            .await
            .unwrap_err();
        assert!(matches!(err, ReviewError::NoPendingVerification));
    }

    #[tokio::test]
    async fn others_may_not_list_a_users_verifications() {
        let user = Actor { user_id: UserId::new(7), role: PlatformRole::User };
        let err = service(MockPhotoVerificationRepository::new(), MockDiscordAvatars::new(), MockObjectStore::new())
            .list_for_user(&user, UserId::new(42), StatusFilter::All, &PageRequest::default())
            .await
            .unwrap_err();
        assert!(matches!(err, ReviewError::PictureForbidden));
    }
}
