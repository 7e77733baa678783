//! The profile use cases: the user's create, edit and list; the superusers'
//! list, detail, decision and filing; labels and level.

use crate::error::ProfileError;
use crate::events;
use crate::model::{Decision, FieldsPatch, Label, Profile, ProfileFields, ProfileId, ProfilePolicy, Verdict};
use crate::ports::{ProfileFilter, ProfileListItem, ProfileRepository, UserSummary};
use shared_kernel::{Actor, Clock, Page, PageRequest, Pause, UserId};
use std::sync::Arc;
use time::Date;

/// How often an edit re-reads the draft after losing a compare-and-set to a
/// concurrent edit of the same draft before giving up.
const EDIT_ATTEMPTS: u32 = 3;

/// A profile as a reviewer sees it: with its user, author, the user's other
/// profiles and every decision on any of them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProfileDetail {
    /// The profile.
    pub profile: Profile,
    /// Its user.
    pub user: UserSummary,
    /// The superuser who filed it, if one did.
    pub author: Option<UserSummary>,
    /// The user's other profiles, newest first.
    pub others: Vec<Profile>,
    /// Every decision on the user's profiles, newest first.
    pub decisions: Vec<Decision>,
}

/// A user's labels and the level they reach.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LabelsView {
    /// The labels.
    pub labels: Vec<Label>,
    /// The highest consecutive configured step that holds.
    pub level: u32,
}

/// The profile use cases over a `ProfileRepository` and a `Clock`.
#[derive(Clone)]
pub struct ProfileService {
    profiles: Arc<dyn ProfileRepository>,
    clock: Arc<dyn Clock>,
    pause: Arc<dyn Pause>,
    policy: ProfilePolicy,
}

/// The caller's profiles with the decisions on them, as the user may see
/// them (without the reviewers' notes).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MyProfiles {
    /// Every profile, newest first.
    pub profiles: Vec<Profile>,
    /// Every decision on them, newest first, internal notes removed.
    pub decisions: Vec<Decision>,
}

impl MyProfiles {
    /// The latest decision on `profile`.
    pub fn decision_of(&self, profile: ProfileId) -> Option<&Decision> {
        self.decisions.iter().find(|d| d.profile_id == profile)
    }
}

impl ProfileService {
    /// Builds the service.
    pub fn new(
        profiles: Arc<dyn ProfileRepository>,
        clock: Arc<dyn Clock>,
        pause: Arc<dyn Pause>,
        policy: ProfilePolicy,
    ) -> Self {
        Self { profiles, clock, pause, policy }
    }

    /// The policy in force (the app reads `mask_personal_data` from it).
    pub fn policy(&self) -> &ProfilePolicy {
        &self.policy
    }

    /// Today's date, bounding dates of birth.
    pub fn today(&self) -> Date {
        self.clock.now().date()
    }

    /// Every profile of the caller, newest first, with the latest decision
    /// (reason and retry, never the internal note).
    pub async fn mine(&self, actor: &Actor) -> Result<MyProfiles, ProfileError> {
        let profiles = self.profiles.of_user(actor.user_id).await?;
        let decisions = self.profiles.decisions_of_user(actor.user_id).await?;
        let decisions = decisions.into_iter().map(|d| Decision { note: None, ..d }).collect();
        Ok(MyProfiles { profiles, decisions })
    }

    async fn last_decision(&self, user: UserId) -> Result<Option<Decision>, ProfileError> {
        Ok(self.profiles.decisions_of_user(user).await?.into_iter().next())
    }

    /// Opens a profile for the caller: drafted, or submitted with `confirm`.
    /// `OpenProfileExists` when one is already drafted or submitted;
    /// `RejectedFinal` after a final rejection.
    pub async fn create(&self, actor: &Actor, patch: &FieldsPatch, confirm: bool) -> Result<Profile, ProfileError> {
        // A decision and the close of the profile it decides commit together,
        // and no profile can be created while one is open, so this read
        // cannot miss a final rejection.
        Profile::check_may_open(self.last_decision(actor.user_id).await?.as_ref())?;
        let fields = ProfileFields::default().patched(patch);
        let profile = Profile::open(actor, fields, confirm, &self.policy, self.clock.now())?;
        self.profiles.create(&profile, &events::opened(&profile)).await?;
        Ok(profile)
    }

    /// Edits the caller's drafted profile; `confirm` submits it.
    /// `NotEditable` when there is none (or it is already submitted).
    pub async fn edit(&self, actor: &Actor, patch: &FieldsPatch, confirm: bool) -> Result<Profile, ProfileError> {
        for _ in 0..EDIT_ATTEMPTS {
            let current = self.profiles.open_of(actor.user_id).await?.ok_or(ProfileError::NotEditable)?;
            let edited = current.edit(actor, patch, confirm, &self.policy, self.clock.now())?;
            if self.profiles.update_draft(&edited, current.version, &events::changed(&edited, actor.user_id)).await? {
                return Ok(edited);
            }
        }
        // Every attempt lost to a concurrent edit; the draft may meanwhile
        // have been submitted, which is exactly "not editable".
        Err(ProfileError::NotEditable)
    }

    /// The caller withdraws their draft; it stays in their history.
    /// `NotEditable` when there is no draft (a submitted profile waits for its decision).
    pub async fn withdraw(&self, actor: &Actor) -> Result<Profile, ProfileError> {
        for _ in 0..EDIT_ATTEMPTS {
            let current = self.profiles.open_of(actor.user_id).await?.ok_or(ProfileError::NotEditable)?;
            let withdrawn = current.withdraw(actor, self.clock.now())?;
            if self
                .profiles
                .update_draft(&withdrawn, current.version, &events::changed(&withdrawn, actor.user_id))
                .await?
            {
                return Ok(withdrawn);
            }
        }
        Err(ProfileError::NotEditable)
    }

    /// A page of profiles for review, newest first.
    pub async fn list(
        &self,
        admin: &Actor,
        filter: &ProfileFilter,
        page: &PageRequest<uuid::Uuid>,
    ) -> Result<Page<ProfileListItem>, ProfileError> {
        require_superuser(admin)?;
        Ok(self.profiles.list(filter, page).await?)
    }

    /// One profile with its user, author, the user's other profiles and every decision.
    pub async fn detail(&self, admin: &Actor, id: ProfileId) -> Result<ProfileDetail, ProfileError> {
        require_superuser(admin)?;
        let profile = self.profiles.find(id).await?.ok_or(ProfileError::ProfileNotFound)?;
        let user = self.summary(profile.user_id).await?;
        let author = match profile.author {
            Some(author) => Some(self.summary(author).await?),
            None => None,
        };
        let others = self.profiles.of_user(profile.user_id).await?.into_iter().filter(|p| p.id != id).collect();
        let decisions = self.profiles.decisions_of_user(profile.user_id).await?;
        Ok(ProfileDetail { profile, user, author, others, decisions })
    }

    async fn summary(&self, user: UserId) -> Result<UserSummary, ProfileError> {
        self.profiles
            .user_summary(user)
            .await?
            .ok_or_else(|| anyhow::anyhow!("user {user} of a stored profile is missing").into())
    }

    /// Decides a submitted profile. `NotDecidable` when there is no such
    /// profile or it is not submitted; `Conflict` with the stored profile
    /// when another decision or change won the race since the read.
    pub async fn decide(&self, admin: &Actor, id: ProfileId, verdict: Verdict) -> Result<Profile, ProfileError> {
        require_superuser(admin)?;
        let current = self.profiles.find(id).await?.ok_or(ProfileError::NotDecidable)?;
        self.pause.at("profile.decide").await;
        let decided = current.decide(admin, verdict, &self.policy, self.clock.now())?;
        if !self.profiles.decide(&decided, current.version).await? {
            let now_stored = self.profiles.find(id).await?.ok_or(ProfileError::NotDecidable)?;
            return Err(ProfileError::Conflict(Box::new(now_stored)));
        }
        Ok(decided.record)
    }

    /// Files a submitted profile for `user`, authored by the calling superuser.
    pub async fn file_for(&self, admin: &Actor, user: UserId, patch: &FieldsPatch) -> Result<Profile, ProfileError> {
        require_superuser(admin)?;
        if self.profiles.user_summary(user).await?.is_none() {
            return Err(ProfileError::UserNotFound);
        }
        let fields = ProfileFields::default().patched(patch);
        let profile = Profile::filed_by_admin(admin, user, fields, &self.policy, self.clock.now())?;
        self.profiles.create(&profile, &events::opened(&profile)).await?;
        Ok(profile)
    }

    /// Erases the user's profile personal data (part of a superuser's
    /// erasure on the user's request; see [`ProfileRepository::shred`]).
    pub async fn shred(&self, admin: &Actor, user: UserId) -> Result<(), ProfileError> {
        require_superuser(admin)?;
        Ok(self.profiles.shred(user).await?)
    }

    /// The caller's own labels (their data export).
    pub async fn my_labels(&self, actor: &Actor) -> Result<Vec<Label>, ProfileError> {
        Ok(self.profiles.labels(actor.user_id).await?.unwrap_or_default())
    }

    /// The user's labels and level.
    pub async fn labels(&self, admin: &Actor, user: UserId) -> Result<LabelsView, ProfileError> {
        require_superuser(admin)?;
        let labels = self.profiles.labels(user).await?.ok_or(ProfileError::UserNotFound)?;
        let level = self.policy.levels.level(&labels);
        Ok(LabelsView { labels, level })
    }
}

fn require_superuser(actor: &Actor) -> Result<(), ProfileError> {
    if actor.is_superuser() { Ok(()) } else { Err(ProfileError::Forbidden) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CreateProfileError;
    use crate::model::{LabelKey, LabelScope, ProfileState, RawFields};
    use crate::ports::MockProfileRepository;
    use shared_kernel::{FixedClock, PlatformRole};
    use time::macros::datetime;

    fn service(repo: MockProfileRepository) -> ProfileService {
        let clock = Arc::new(FixedClock::at(datetime!(2026-06-14 10:00:00 UTC)));
        ProfileService::new(Arc::new(repo), clock, Arc::new(shared_kernel::NoPause), ProfilePolicy::default())
    }

    fn user() -> Actor {
        Actor { user_id: UserId::new(1), role: PlatformRole::User }
    }

    fn admin() -> Actor {
        Actor { user_id: UserId::new(9), role: PlatformRole::Superuser }
    }

    fn summary(id: i64) -> UserSummary {
        UserSummary {
            id: UserId::new(id),
            email: format!("u{id}@x.io"),
            email_verified: true,
            username: format!("u{id}"),
            display_name: format!("User {id}"),
        }
    }

    fn patch() -> FieldsPatch {
        RawFields { first_name: Some(Some("Ada".into())), ..Default::default() }
            .parse(datetime!(2026-06-14 10:00:00 UTC).date())
            .unwrap()
    }

    #[tokio::test]
    async fn a_second_open_profile_is_refused_by_the_repository() {
        let mut repo = MockProfileRepository::new();
        repo.expect_decisions_of_user().returning(|_| Ok(Vec::new()));
        repo.expect_create().returning(|_, _| Err(CreateProfileError::OpenProfileExists));
        let err = service(repo).create(&user(), &patch(), false).await.unwrap_err();
        assert!(matches!(err, ProfileError::OpenProfileExists));
    }

    #[tokio::test]
    async fn after_a_final_rejection_the_user_opens_no_new_profile() {
        let mut repo = MockProfileRepository::new();
        let final_rejection = Decision {
            id: crate::model::DecisionId::new(),
            profile_id: ProfileId::new(),
            admin_id: Some(admin().user_id),
            verdict: crate::model::DecisionKind::Rejected,
            reason: crate::model::Reason::parse("forged"),
            note: None,
            retry: Some(shared_kernel::Retry::Final),
            at: datetime!(2026-06-01 0:00 UTC),
        };
        repo.expect_decisions_of_user().returning(move |_| Ok(vec![final_rejection.clone()]));
        repo.expect_create().never();
        let err = service(repo).create(&user(), &patch(), false).await.unwrap_err();
        assert!(matches!(err, ProfileError::RejectedFinal));
    }

    #[tokio::test]
    async fn an_edit_that_loses_to_a_concurrent_edit_reapplies_to_the_new_version() {
        let mut repo = MockProfileRepository::new();
        let draft = Profile::open(
            &user(),
            ProfileFields::default(),
            false,
            &ProfilePolicy::default(),
            datetime!(2026-06-01 0:00 UTC),
        )
        .unwrap();
        let newer = Profile { version: 2, ..draft.clone() };
        let mut seq = mockall::Sequence::new();
        repo.expect_open_of().times(1).in_sequence(&mut seq).returning(move |_| Ok(Some(draft.clone())));
        repo.expect_update_draft().times(1).in_sequence(&mut seq).returning(|_, _, _| Ok(false));
        repo.expect_open_of().times(1).in_sequence(&mut seq).returning(move |_| Ok(Some(newer.clone())));
        repo.expect_update_draft()
            .withf(|p, v, e| *v == 2 && p.version == 3 && e.kind == "profile.updated")
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Ok(true));
        let edited = service(repo).edit(&user(), &patch(), false).await.unwrap();
        assert_eq!(edited.fields.first_name.map(|n| n.as_str().to_owned()).as_deref(), Some("Ada"));
    }

    #[tokio::test]
    async fn editing_without_an_open_profile_is_not_editable() {
        let mut repo = MockProfileRepository::new();
        repo.expect_open_of().returning(|_| Ok(None));
        let err = service(repo).edit(&user(), &patch(), true).await.unwrap_err();
        assert!(matches!(err, ProfileError::NotEditable));
    }

    #[tokio::test]
    async fn a_decision_that_loses_the_compare_and_set_is_a_conflict_with_the_current_profile() {
        let mut repo = MockProfileRepository::new();
        let sent = Profile::open(
            &user(),
            ProfileFields::default(),
            true,
            &ProfilePolicy::default(),
            datetime!(2026-06-01 0:00 UTC),
        )
        .unwrap();
        let won = Profile { state: ProfileState::Rejected, version: 2, ..sent.clone() };
        let mut seq = mockall::Sequence::new();
        repo.expect_find().times(1).in_sequence(&mut seq).returning(move |_| Ok(Some(sent.clone())));
        repo.expect_decide()
            .withf(|d, v| *v == 1 && d.record.state == ProfileState::Verified)
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(false));
        repo.expect_find().times(1).in_sequence(&mut seq).returning(move |_| Ok(Some(won.clone())));
        let err = service(repo).decide(&admin(), ProfileId::new(), Verdict::Verify(None)).await.unwrap_err();
        assert!(matches!(err, ProfileError::Conflict(current) if current.state == ProfileState::Rejected));
    }

    #[tokio::test]
    async fn deciding_a_missing_profile_is_not_decidable() {
        let mut repo = MockProfileRepository::new();
        repo.expect_find().returning(|_| Ok(None));
        let err = service(repo).decide(&admin(), ProfileId::new(), Verdict::Verify(None)).await.unwrap_err();
        assert!(matches!(err, ProfileError::NotDecidable));
    }

    #[tokio::test]
    async fn filing_for_an_unknown_user_is_user_not_found_and_writes_nothing() {
        let mut repo = MockProfileRepository::new();
        repo.expect_user_summary().returning(|_| Ok(None));
        repo.expect_create().never();
        let err = service(repo).file_for(&admin(), UserId::new(5), &patch()).await.unwrap_err();
        assert!(matches!(err, ProfileError::UserNotFound));
    }

    #[tokio::test]
    async fn filing_creates_a_submitted_profile_authored_by_the_admin() {
        let mut repo = MockProfileRepository::new();
        repo.expect_user_summary().returning(|id| Ok(Some(summary(id.get()))));
        repo.expect_create()
            .withf(|p, e| {
                p.state == ProfileState::Submitted
                    && p.author == Some(UserId::new(9))
                    && e.kind == "profile.submitted"
                    && e.actor_id == Some(UserId::new(9))
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let filed = service(repo).file_for(&admin(), UserId::new(5), &patch()).await.unwrap();
        assert_eq!(filed.user_id, UserId::new(5));
    }

    #[tokio::test]
    async fn labels_come_with_the_level() {
        let mut repo = MockProfileRepository::new();
        repo.expect_labels().returning(|_| {
            Ok(Some(vec![Label {
                key: LabelKey::email(),
                value: "verified".into(),
                scope: LabelScope::Private,
                updated_at: datetime!(2026-06-01 0:00 UTC),
            }]))
        });
        let view = service(repo).labels(&admin(), UserId::new(1)).await.unwrap();
        assert_eq!(view.level, 1);
        let mut repo = MockProfileRepository::new();
        repo.expect_labels().returning(|_| Ok(None));
        assert!(matches!(service(repo).labels(&admin(), UserId::new(1)).await, Err(ProfileError::UserNotFound)));
    }

    #[tokio::test]
    async fn admin_use_cases_refuse_ordinary_users() {
        let svc = service(MockProfileRepository::new());
        assert!(matches!(svc.labels(&user(), UserId::new(1)).await, Err(ProfileError::Forbidden)));
        assert!(matches!(svc.detail(&user(), ProfileId::new()).await, Err(ProfileError::Forbidden)));
        let page = PageRequest::default();
        assert!(matches!(svc.list(&user(), &ProfileFilter::default(), &page).await, Err(ProfileError::Forbidden)));
    }
}
