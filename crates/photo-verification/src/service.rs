//! The photo verification use cases: open (called by the app's avatar
//! finalize when the feature is on), approve, reject, refresh the Discord
//! avatar, and the queries. Object deletions happen only after the commit
//! that made an object unreferenced, and a failed deletion costs storage,
//! never correctness.

use crate::error::{DecisionError, OpenError, ReviewError};
use crate::model::{
    ApprovalSide, NewVerification, PhotoEvent, PhotoVerification, PhotoVerificationId, Rejection, RejectionReason,
    Transition, VerificationStatus,
};
use crate::ports::{
    DiscordAvatars, Opened, PhotoVerificationRepository, Saved, StatusFilter, VerificationFilter, VerificationWithUser,
};
use image_upload::{Discard as _, ImageUploadService, ObjectKey, ObjectStore, StoreError, TicketId};
use shared_kernel::{Actor, Clock, DiscordId, Page, PageRequest, Pause, Retry, UserId};
use std::sync::Arc;
use time::OffsetDateTime;

/// The photo verification use cases.
#[derive(Clone)]
pub struct PhotoVerificationService {
    repo: Arc<dyn PhotoVerificationRepository>,
    discord: Arc<dyn DiscordAvatars>,
    store: Arc<dyn ObjectStore>,
    uploads: ImageUploadService,
    clock: Arc<dyn Clock>,
    pause: Arc<dyn Pause>,
}

impl PhotoVerificationService {
    /// Builds the use cases; `uploads` (over the same `store`) commits an
    /// opened verification's image; `pause` is a test hook between a
    /// decision's read and its write (`shared_kernel::NoPause` in production).
    pub fn new(
        repo: Arc<dyn PhotoVerificationRepository>,
        discord: Arc<dyn DiscordAvatars>,
        store: Arc<dyn ObjectStore>,
        uploads: ImageUploadService,
        clock: Arc<dyn Clock>,
        pause: Arc<dyn Pause>,
    ) -> Self {
        Self { repo, discord, store, uploads, clock, pause }
    }

    /// Whether `user` may submit a new photo: not after a final rejection.
    /// Asked before an upload ticket is issued, so a refused user spends no try.
    pub async fn may_open(&self, user: UserId) -> Result<(), OpenError> {
        match self.repo.last_decided(user).await? {
            Some(last) if !last.allows_retry() => Err(OpenError::RejectedFinal),
            _ => Ok(()),
        }
    }

    /// Opens a PENDING verification for a verified upload, superseding the
    /// user's pending one. It never waits on Discord: the Discord avatar is
    /// read by the background job ([`Self::read_discord_avatars`]) or a
    /// reviewer's refresh. Refused after a final rejection. The image is
    /// committed by [`ImageUploadService::commit`]: after the open, the
    /// superseded verification's image is deleted; if the open is refused or
    /// fails (a concurrent finalize used the ticket first, the user is gone),
    /// the upload's copy is.
    pub async fn open(&self, ticket: TicketId, new: NewVerification) -> Result<Opened, OpenError> {
        let key = new.object_key.clone();
        let swap = async {
            self.may_open(new.user_id).await?;
            let now = self.clock.now();
            self.repo.open(ticket, &PhotoVerification::open(new, now), now).await
        };
        self.uploads.commit(&key, swap, |opened| opened.superseded.as_ref().map(|old| &old.profile.object_key)).await
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
        self.pause.at("photo.decide").await;
        // A decided record is answered with itself, so the caller sees who won.
        let mut next = transition(&current, self.clock.now()).map_err(|e| match e {
            DecisionError::AlreadyDecided { .. } => ReviewError::AlreadyDecided(Box::new(current.clone())),
            other => other.into(),
        })?;
        if !next.changed() {
            return Ok(next.record);
        }
        // Accepted: an unreviewed (private) photo is published to its public key first.
        let private = next.record.profile.object_key.clone();
        let published = match (next.record.status, private.published()) {
            (VerificationStatus::Accepted, Some(public)) => {
                match self.store.copy(&private, &public, image_type(&public)?).await {
                    Ok(()) => {}
                    // Another reviewer's rejection (or a supersession) deleted the
                    // private photo since our read: they won.
                    Err(StoreError::Missing(_)) => match self.repo.find(current.id).await? {
                        Some(now_stored) if now_stored.version != current.version => {
                            return Err(ReviewError::Conflict(Box::new(now_stored)));
                        }
                        _ => {
                            return Err(
                                anyhow::anyhow!("the photo {private} of a pending verification is missing").into()
                            );
                        }
                    },
                    Err(e) => return Err(anyhow::Error::new(e).into()),
                }
                next.record = next.record.published(public.clone(), self.store.public_url(&public));
                Some(public)
            }
            _ => None,
        };
        let saved = match self.repo.save(current.version, &next).await {
            Ok(saved) => saved,
            Err(e) => {
                if let Some(public) = &published {
                    self.store.discard(public, "its decision was not saved").await;
                }
                return Err(e.into());
            }
        };
        match saved {
            Saved::Conflict(now_stored) => {
                if let Some(public) = &published {
                    self.store.discard(public, "another decision won").await;
                }
                Err(ReviewError::Conflict(now_stored))
            }
            Saved::Written { replaced_avatar } => {
                if published.is_some() {
                    self.store.discard(&private, "its photo was published").await;
                }
                match next.record.status {
                    VerificationStatus::Accepted => {
                        if let Some(old) = replaced_avatar.filter(|k| *k != next.record.profile.object_key) {
                            self.store.discard(&old, "replaced by an accepted photo").await;
                        }
                    }
                    VerificationStatus::Rejected => {
                        self.store.discard(&next.record.profile.object_key, "its photo was rejected").await;
                    }
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

    /// A superuser rejects with a reason for the user, an internal note and
    /// whether the user may try again (`PATCH /picture/reject/{id}`).
    pub async fn reject(
        &self,
        actor: &Actor,
        id: PhotoVerificationId,
        rejection: &Rejection,
    ) -> Result<PhotoVerification, ReviewError> {
        self.decide(id, |v, now| v.reject(actor, rejection, now)).await
    }

    /// Reads the Discord avatars of pending verifications that have none yet
    /// (the upload never waits on Discord); how many were stored. A failed
    /// read is left for the next run or a reviewer's refresh.
    pub async fn read_discord_avatars(&self, limit: u32) -> anyhow::Result<usize> {
        let mut stored = 0;
        for pending in self.repo.unread_discord(limit).await? {
            let Some(discord_id) = pending.discord_id.clone() else { continue };
            let Ok(avatar) = self.discord.current_avatar(&discord_id).await else { continue };
            let next = pending.discord_read(avatar, self.clock.now());
            if next.changed() && matches!(self.repo.save(pending.version, &next).await?, Saved::Written { .. }) {
                stored += 1;
            }
        }
        Ok(stored)
    }

    /// One verification with its event log: its user or a superuser.
    pub async fn detail(
        &self,
        actor: &Actor,
        id: PhotoVerificationId,
    ) -> Result<(PhotoVerification, Vec<PhotoEvent>), ReviewError> {
        let found = self.repo.find(id).await?.ok_or(ReviewError::NotFound)?;
        if found.user_id != actor.user_id && !actor.is_superuser() {
            // Someone else's verification: as if there were none.
            return Err(ReviewError::NotFound);
        }
        let events = self.repo.events(id).await?;
        Ok((found, events))
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
        page: &PageRequest<uuid::Uuid>,
    ) -> Result<Page<VerificationWithUser>, ReviewError> {
        Ok(self.repo.list(filter, page).await?)
    }

    /// One user's verifications, newest first: the user themself or a superuser.
    pub async fn list_for_user(
        &self,
        actor: &Actor,
        user_id: UserId,
        status: StatusFilter,
        page: &PageRequest<uuid::Uuid>,
    ) -> Result<Page<VerificationWithUser>, ReviewError> {
        if actor.user_id != user_id && !actor.is_superuser() {
            return Err(ReviewError::PictureForbidden);
        }
        let filter = VerificationFilter { user_id: Some(user_id), username: None, status };
        Ok(self.repo.list(&filter, page).await?)
    }

    /// Part of a user's erasure on their request, by a superuser: a pending
    /// verification is rejected as final (its reason says why), and the photo
    /// objects of all of them are deleted. The records and their event logs
    /// stay, naming the user only by id. Returns how many records it went through.
    pub async fn erase_photos_of(&self, admin: &Actor, user: UserId) -> Result<usize, ReviewError> {
        if !admin.is_superuser() {
            return Err(DecisionError::Forbidden.into());
        }
        let filter = VerificationFilter { user_id: Some(user), username: None, status: StatusFilter::All };
        let rejection = Rejection {
            reason: RejectionReason::parse("The account was erased on request.").map_err(anyhow::Error::new)?,
            note: None,
            retry: Retry::Final,
        };
        let mut seen = 0;
        let mut cursor: Option<String> = None;
        loop {
            let page = PageRequest::parse(Some(100), cursor.as_deref()).map_err(anyhow::Error::new)?;
            let found = self.repo.list(&filter, &page).await?;
            for item in found.items {
                let v = item.verification;
                if v.status == VerificationStatus::Pending {
                    match self.decide_on(v.clone(), |v, now| v.reject(admin, &rejection, now)).await {
                        // Decided or superseded meanwhile: its object goes below all the same.
                        Ok(_) | Err(ReviewError::Conflict(_) | ReviewError::AlreadyDecided(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                self.store.delete(&v.profile.object_key).await.map_err(anyhow::Error::new)?;
                seen += 1;
            }
            match found.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(seen),
            }
        }
    }

    /// A verification's event log (superusers; the app checks the role).
    pub async fn events(&self, id: PhotoVerificationId) -> Result<Vec<PhotoEvent>, ReviewError> {
        if self.repo.find(id).await?.is_none() {
            return Err(ReviewError::NotFound);
        }
        Ok(self.repo.events(id).await?)
    }
}

/// The image type a key names (every finalized key has an image extension).
fn image_type(key: &ObjectKey) -> anyhow::Result<image_upload::ImageType> {
    key.image_type().ok_or_else(|| anyhow::anyhow!("the object key {key} names no image type"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DiscordError;
    use crate::model::DiscordAvatar;
    use crate::ports::{MockDiscordAvatars, MockPhotoVerificationRepository};
    use image_upload::{MockObjectStore, MockUploadTicketRepository};
    use shared_kernel::Retry;
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
    ) -> PhotoVerificationService {
        let clock = Arc::new(FixedClock::at(datetime!(2026-06-14 10:05 UTC)));
        let store: Arc<dyn ObjectStore> = Arc::new(store);
        let uploads =
            ImageUploadService::new(store.clone(), Arc::new(MockUploadTicketRepository::new()), clock.clone());
        PhotoVerificationService::new(
            Arc::new(repo),
            Arc::new(discord),
            store,
            uploads,
            clock,
            Arc::new(shared_kernel::NoPause),
        )
    }

    fn rejection(retry: Retry) -> Rejection {
        Rejection { reason: RejectionReason::parse("blurry").unwrap(), note: None, retry }
    }

    #[tokio::test]
    async fn opening_never_waits_on_discord_and_deletes_the_superseded_image() {
        let mut discord = MockDiscordAvatars::new();
        discord.expect_current_avatar().never();
        let mut old = pending();
        old.profile.object_key = ObjectKey::parse("avatars/42/old.png").unwrap();
        let mut repo = MockPhotoVerificationRepository::new();
        repo.expect_last_decided().returning(|_| Ok(None));
        repo.expect_open().returning(move |_, t, _| {
            assert!(t.record.discord.fetched_at.is_none(), "read later, in the background");
            Ok(Opened { verification: t.record.clone(), superseded: Some(old.clone()) })
        });
        let mut store = MockObjectStore::new();
        store.expect_delete().withf(|k| k.as_str() == "avatars/42/old.png").times(1).returning(|_| Ok(()));
        let opened = service(repo, discord, store).open(TicketId::new(), new_verification(true)).await.unwrap();
        assert_eq!(opened.verification.status, VerificationStatus::Pending);
    }

    #[tokio::test]
    async fn the_background_read_stores_discord_avatars_and_skips_failures() {
        let unread = PhotoVerification::open(new_verification(true), datetime!(2026-06-14 10:00 UTC)).record;
        let mut discord = MockDiscordAvatars::new();
        discord
            .expect_current_avatar()
            .returning(|_| Ok(DiscordAvatar { url: "https://cdn/d.png".into(), hash: Some("h".into()) }));
        let mut repo = MockPhotoVerificationRepository::new();
        repo.expect_unread_discord().returning(move |_| Ok(vec![unread.clone()]));
        repo.expect_save()
            .withf(|version, t| *version == 1 && t.record.discord.avatar_hash.as_deref() == Some("h"))
            .times(1)
            .returning(|_, _| Ok(Saved::Written { replaced_avatar: None }));
        assert_eq!(service(repo, discord, MockObjectStore::new()).read_discord_avatars(10).await.unwrap(), 1);
        let mut failing = MockDiscordAvatars::new();
        failing.expect_current_avatar().returning(|_| Err(DiscordError::NotConfigured));
        let mut repo = MockPhotoVerificationRepository::new();
        let unread = PhotoVerification::open(new_verification(true), datetime!(2026-06-14 10:00 UTC)).record;
        repo.expect_unread_discord().returning(move |_| Ok(vec![unread.clone()]));
        repo.expect_save().never();
        assert_eq!(service(repo, failing, MockObjectStore::new()).read_discord_avatars(10).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn after_a_final_rejection_no_new_photo_is_opened() {
        let last = pending().reject(&root(), &rejection(Retry::Final), datetime!(2026-06-14 10:01 UTC)).unwrap().record;
        let mut repo = MockPhotoVerificationRepository::new();
        repo.expect_last_decided().returning(move |_| Ok(Some(last.clone())));
        repo.expect_open().never();
        let mut store = MockObjectStore::new();
        store.expect_delete().withf(|k| k.as_str() == "avatars/42/new.png").times(1).returning(|_| Ok(()));
        let err = service(repo, MockDiscordAvatars::new(), store).open(TicketId::new(), new_verification(false)).await;
        assert!(matches!(err, Err(OpenError::RejectedFinal)));
    }

    #[tokio::test]
    async fn accepting_a_private_photo_publishes_it_and_deletes_the_private_copy() {
        let mut v = pending();
        v.profile.object_key = ObjectKey::parse("pending/avatars/42/new.png").unwrap();
        let id = v.id;
        let mut repo = MockPhotoVerificationRepository::new();
        repo.expect_find().returning(move |_| Ok(Some(v.clone())));
        repo.expect_save()
            .withf(|_, t| {
                t.record.profile.object_key.as_str() == "avatars/42/new.png"
                    && t.record.profile.url == "https://cdn/avatars/42/new.png"
            })
            .returning(|_, _| Ok(Saved::Written { replaced_avatar: None }));
        let mut store = MockObjectStore::new();
        store
            .expect_copy()
            .withf(|from, to, _| from.as_str() == "pending/avatars/42/new.png" && to.as_str() == "avatars/42/new.png")
            .times(1)
            .returning(|_, _, _| Ok(()));
        store.expect_public_url().returning(|k| format!("https://cdn/{k}"));
        store.expect_delete().withf(|k| k.as_str() == "pending/avatars/42/new.png").times(1).returning(|_| Ok(()));
        let v = service(repo, MockDiscordAvatars::new(), store).approve(&root(), id, ApprovalSide::Both).await.unwrap();
        assert_eq!((v.status, v.profile.object_key.as_str()), (VerificationStatus::Accepted, "avatars/42/new.png"));
    }

    #[tokio::test]
    async fn losing_the_ticket_race_deletes_the_copy() {
        let mut repo = MockPhotoVerificationRepository::new();
        repo.expect_last_decided().returning(|_| Ok(None));
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
        let v = service(repo, MockDiscordAvatars::new(), store)
            .reject(&root(), id, &rejection(Retry::Allowed))
            .await
            .unwrap();
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
        let v = pending().reject(&root(), &rejection(Retry::Allowed), datetime!(2026-06-14 10:01 UTC));
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
