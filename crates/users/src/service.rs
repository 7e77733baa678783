//! The user use cases: sign-in with just-in-time provisioning, get the
//! current user, update the profile, set the manual status, promote.

use crate::erasure::{EraseError, Erased, Erasure, erased_subject};
use crate::error::{AdminUserError, CreateUserError, SignInError, UserError};
use crate::model::{
    AdminUserUpdate, Identity, NewUser, ProfileChange, Promotion, User, UserRecord, UserView, Username, ViewQuery,
};
use crate::ports::UserRepository;
use shared_kernel::{Actor, Clock, EmailAddress, Page, PageRequest, PlatformRole, UserId};
use std::sync::Arc;

/// How many numbered usernames are tried (`ada`, `ada2`, … `ada5`) before
/// random tags (`ada-7f3k2q9d`), so that any number of accounts sharing an
/// e-mail local part never makes a first sign-in fail.
const NUMBERED_USERNAMES: u32 = 5;

/// Random tags tried after the numbered usernames; with 32 random bits each,
/// running out means the database is refusing something else.
const TAGGED_USERNAMES: u32 = 20;

/// Settings of the user use cases.
#[derive(Clone, Debug, Default)]
pub struct UserPolicy {
    /// E-mails that become superusers when their user is first provisioned
    /// (only with a verified e-mail, so an unverified claim cannot escalate).
    pub bootstrap_superusers: Vec<EmailAddress>,
    /// Avatar upload tries per rolling window.
    pub avatar_tries_per_window: u32,
    /// The avatar rate-limit window.
    pub avatar_window: time::Duration,
}

/// The user use cases, over a `UserRepository` and a `Clock`.
#[derive(Clone)]
pub struct UserService {
    users: Arc<dyn UserRepository>,
    clock: Arc<dyn Clock>,
    policy: UserPolicy,
}

impl UserService {
    /// Builds the service.
    pub fn new(users: Arc<dyn UserRepository>, clock: Arc<dyn Clock>, policy: UserPolicy) -> Self {
        Self { users, clock, policy }
    }

    /// The user for a verified token's identity: found by subject (refreshing
    /// e-mail, verification and names when the identity provider changed them,
    /// never the display name), or created on first sight.
    /// A Discord id in the token (`auth.discord_id_claim`) is linked when the
    /// user has none or a different one, unless another user holds it (the
    /// claim never takes an id from someone else).
    pub async fn sign_in(&self, identity: &Identity) -> Result<Actor, SignInError> {
        let user = self.find_or_provision(identity).await?;
        let user = self.link_claimed_discord(user, identity).await?;
        Ok(actor_of(&user))
    }

    async fn link_claimed_discord(&self, user: User, identity: &Identity) -> Result<User, SignInError> {
        let Some(claimed) = identity.discord_to_link(&user) else {
            return Ok(user);
        };
        let update = AdminUserUpdate { discord_id: Some(Some(claimed.clone())), ..AdminUserUpdate::default() };
        match self.users.admin_update(user.id, &update, self.clock.now(), None).await {
            Ok(updated) => Ok(updated),
            Err(AdminUserError::DiscordIdTaken | AdminUserError::UsernameTaken) => Ok(user),
            Err(AdminUserError::NotFound | AdminUserError::Forbidden | AdminUserError::LastSuperuser) => {
                Err(anyhow::anyhow!("user {} vanished during sign-in", user.id).into())
            }
            Err(AdminUserError::Unexpected(e)) => Err(e.into()),
        }
    }

    async fn find_or_provision(&self, identity: &Identity) -> Result<User, SignInError> {
        if let Some(user) = self.users.find_by_subject(identity.subject()).await? {
            return self.refresh_if_changed(user, identity).await;
        }
        // An erased person's token: refused, never a silent new account.
        if self.users.find_by_subject(&erased_subject(identity.subject())).await?.is_some() {
            return Err(SignInError::Erased);
        }
        let email = identity.email.clone().ok_or(SignInError::EmailMissing)?;
        let bootstrap = identity.email_verified && self.policy.bootstrap_superusers.contains(&email);
        let base = Username::derive(&email);
        let mut new = NewUser {
            display_name: identity.initial_display_name(&email),
            username: base.clone(),
            email,
            identity: identity.clone(),
            platform_role: if bootstrap { PlatformRole::Superuser } else { PlatformRole::User },
            now: self.clock.now(),
        };
        for attempt in 1..=NUMBERED_USERNAMES + TAGGED_USERNAMES {
            match self.users.create(&new).await {
                Ok(user) => return Ok(user),
                // A concurrent first request for the same subject won: use its row.
                Err(CreateUserError::SubjectTaken) => {
                    let user = self.users.find_by_subject(identity.subject()).await?.ok_or_else(|| {
                        anyhow::anyhow!("user {} vanished after a subject conflict", identity.subject())
                    })?;
                    return self.refresh_if_changed(user, identity).await;
                }
                Err(CreateUserError::UsernameTaken) if attempt < NUMBERED_USERNAMES => {
                    new.username = base.with_suffix(attempt + 1);
                }
                Err(CreateUserError::UsernameTaken) => new.username = base.with_tag(&random_tag()),
                Err(CreateUserError::Unexpected(e)) => return Err(e.into()),
            }
        }
        Err(anyhow::anyhow!(
            "no free username for base {base} after {} attempts",
            NUMBERED_USERNAMES + TAGGED_USERNAMES
        )
        .into())
    }

    async fn refresh_if_changed(&self, user: User, identity: &Identity) -> Result<User, SignInError> {
        let Some(refresh) = identity.refresh_of(&user) else {
            return Ok(user);
        };
        let now = self.clock.now();
        let refreshed = self.users.refresh_identity(user.id, &refresh, now).await?;
        refreshed.ok_or_else(|| anyhow::anyhow!("user {} vanished during sign-in", user.id).into())
    }

    /// Signs the identity in and answers its view, as [`Self::sign_in`] and
    /// then [`Self::current`] would, in one read when the stored user already
    /// reflects the token (every request but the first after a change);
    /// otherwise sign-in's writes come first and the view is read after them.
    pub async fn sign_in_and_view(&self, identity: &Identity) -> Result<(Actor, UserView), SignInError> {
        let now = self.clock.now();
        let (actor, record) = match self.sign_in_reading_view(identity, now).await? {
            (actor, Some(record)) => (actor, record),
            (actor, None) => (actor, self.users.view(actor.user_id, self.query(now)).await?.ok_or(SignInError::Gone)?),
        };
        Ok((actor, UserView::assemble(record, self.policy.avatar_tries_per_window, now)))
    }

    /// Signs the identity in, applies its own profile change and answers the
    /// view, as [`Self::sign_in`] and then [`Self::change`] would: one read
    /// and one write when the stored user already reflects the token (the
    /// change touches the user row only, so the memberships and tries of
    /// that read are the view's).
    pub async fn sign_in_and_change(
        &self,
        identity: &Identity,
        change: &ProfileChange,
    ) -> Result<(Actor, UserView), SignInError> {
        let now = self.clock.now();
        let (actor, record) = self.sign_in_reading_view(identity, now).await?;
        let user = self.users.change_profile(actor.user_id, change, now).await?.ok_or(SignInError::Gone)?;
        let record = match record {
            Some(record) => UserRecord { user, ..record },
            None => self.users.view(actor.user_id, self.query(now)).await?.ok_or(SignInError::Gone)?,
        };
        Ok((actor, UserView::assemble(record, self.policy.avatar_tries_per_window, now)))
    }

    /// Signs the identity in over one read of its view, which comes back
    /// when the stored user already reflects the token; otherwise the full
    /// sign-in runs (provisioning, refreshing) and no view comes back.
    async fn sign_in_reading_view(
        &self,
        identity: &Identity,
        now: time::OffsetDateTime,
    ) -> Result<(Actor, Option<UserRecord>), SignInError> {
        match self.users.view_by_subject(identity.subject(), self.query(now)).await? {
            Some(record) if identity.is_reflected_by(&record.user) => Ok((actor_of(&record.user), Some(record))),
            _ => Ok((self.sign_in(identity).await?, None)),
        }
    }

    /// What a view at `now` reads.
    fn query(&self, now: time::OffsetDateTime) -> ViewQuery {
        ViewQuery::at(now, self.policy.avatar_window)
    }

    /// The view assembled from `record` at `now`.
    fn assemble(&self, record: Option<UserRecord>, now: time::OffsetDateTime) -> Result<UserView, UserError> {
        let record = record.ok_or(UserError::NotFound)?;
        Ok(UserView::assemble(record, self.policy.avatar_tries_per_window, now))
    }

    /// The display names of `ids` as they read now (an erased user's is
    /// the placeholder erasure left), for logs that name who did what; an
    /// id without a user is left out.
    pub async fn display_names(&self, ids: &[UserId]) -> anyhow::Result<std::collections::HashMap<UserId, String>> {
        let users = self.users.find_many(ids).await?;
        Ok(users.into_iter().map(|u| (u.id, u.display_name.as_str().to_owned())).collect())
    }

    /// `id` as an actor with the platform role stored now; none when no
    /// such user exists (erased accounts keep their row and read as users).
    pub async fn actor(&self, id: UserId) -> anyhow::Result<Option<Actor>> {
        Ok(self.users.find(id).await?.map(|u| Actor { user_id: u.id, role: u.platform_role }))
    }

    /// The signed-in user's view.
    pub async fn current(&self, actor: &Actor) -> Result<UserView, UserError> {
        let now = self.clock.now();
        let record = self.users.view(actor.user_id, self.query(now)).await?;
        self.assemble(record, now)
    }

    /// Applies the signed-in user's own profile change and answers the view.
    pub async fn change(&self, actor: &Actor, change: &ProfileChange) -> Result<UserView, UserError> {
        let now = self.clock.now();
        if self.users.change_profile(actor.user_id, change, now).await?.is_none() {
            return Err(UserError::NotFound);
        }
        let record = self.users.view(actor.user_id, self.query(now)).await?;
        self.assemble(record, now)
    }

    /// Makes the accounts that have this e-mail verified superusers; what
    /// it did to each account with the e-mail (`usher users promote`).
    pub async fn promote(&self, email: &EmailAddress) -> anyhow::Result<Vec<(User, Promotion)>> {
        let mut done = Vec::new();
        for user in self.users.find_by_email(email).await? {
            let promotion = user.promotion();
            let user = if promotion == Promotion::Promoted {
                let update =
                    AdminUserUpdate { platform_role: Some(PlatformRole::Superuser), ..AdminUserUpdate::default() };
                self.users
                    .admin_update(user.id, &update, self.clock.now(), None)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?
            } else {
                user
            };
            done.push((user, promotion));
        }
        Ok(done)
    }

    /// A superuser changes a user's platform role, Discord id or username.
    pub async fn admin_update(
        &self,
        actor: &Actor,
        id: UserId,
        update: &AdminUserUpdate,
    ) -> Result<User, AdminUserError> {
        if !actor.is_superuser() {
            return Err(AdminUserError::Forbidden);
        }
        self.users.admin_update(id, update, self.clock.now(), Some(actor.user_id)).await
    }

    /// A superuser erases a user's personal data from the user record
    /// (idempotent: a second erasure answers the first one's record).
    pub async fn erase(&self, actor: &Actor, id: UserId) -> Result<Erased, EraseError> {
        if !actor.is_superuser() {
            return Err(EraseError::Forbidden);
        }
        let target = self.users.find(id).await?.ok_or(EraseError::NotFound)?;
        let erasure = Erasure::of(&target, actor, self.clock.now())?;
        Ok(self.users.erase(&erasure).await?)
    }

    /// A superuser searches users by e-mail, username or display name.
    pub async fn search(
        &self,
        actor: &Actor,
        query: Option<&str>,
        page: &PageRequest<UserId>,
    ) -> Result<Page<User>, AdminUserError> {
        if !actor.is_superuser() {
            return Err(AdminUserError::Forbidden);
        }
        let query = query.map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
        Ok(self.users.search(query, page).await?)
    }
}

/// Eight random lower-case hexadecimal digits (the random tail of a UUIDv7).
fn random_tag() -> String {
    let simple = uuid::Uuid::now_v7().simple().to_string();
    simple[simple.len() - 8..].to_owned()
}

fn actor_of(user: &User) -> Actor {
    Actor { user_id: user.id, role: user.platform_role }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DisplayName, Integrations, ManualStatus};
    use crate::ports::MockUserRepository;
    use shared_kernel::{FixedClock, UserId};
    use time::macros::datetime;

    fn clock() -> Arc<FixedClock> {
        Arc::new(FixedClock::at(datetime!(2026-06-14 10:00:00 UTC)))
    }

    fn identity(email: &str, verified: bool) -> Identity {
        Identity::new("idp|1", Some(EmailAddress::parse(email).unwrap()), verified, None, None, Some("Ada L")).unwrap()
    }

    /// Ada's first sign-in with `identity` (which carries her e-mail).
    fn ada(identity: &Identity, role: PlatformRole) -> NewUser {
        NewUser {
            identity: identity.clone(),
            email: identity.email.clone().unwrap(),
            display_name: DisplayName::parse("Ada L").unwrap(),
            username: Username::parse("ada").unwrap(),
            platform_role: role,
            now: datetime!(2026-06-01 10:00:00 UTC),
        }
    }

    fn stored(new: &NewUser) -> User {
        User {
            id: UserId::new(1),
            subject: new.identity.subject().to_owned(),
            email: new.email.clone(),
            email_verified: new.identity.email_verified,
            first_name: None,
            last_name: None,
            display_name: new.display_name.clone(),
            username: new.username.clone(),
            avatar_url: None,
            current_organization_id: None,
            manual_status: None,
            integrations: Integrations::default(),
            platform_role: new.platform_role,
            discord_id: None,
            created_at: new.now,
            updated_at: new.now,
        }
    }

    fn service(repo: MockUserRepository, bootstrap: &[&str]) -> UserService {
        let policy = UserPolicy {
            bootstrap_superusers: bootstrap.iter().map(|e| EmailAddress::parse(e).unwrap()).collect(),
            avatar_tries_per_window: 5,
            avatar_window: time::Duration::days(1),
        };
        UserService::new(Arc::new(repo), clock(), policy)
    }

    #[tokio::test]
    async fn an_unknown_subject_is_provisioned_with_the_next_free_username() {
        let mut repo = MockUserRepository::new();
        repo.expect_find_by_subject().returning(|_| Ok(None));
        repo.expect_create()
            .withf(|n| n.username.as_str() == "ada")
            .times(1)
            .returning(|_| Err(CreateUserError::UsernameTaken));
        repo.expect_create()
            .withf(|n| n.username.as_str() == "ada2" && n.display_name.as_str() == "Ada L")
            .times(1)
            .returning(|n| Ok(stored(n)));
        let actor = service(repo, &[]).sign_in(&identity("ada@x.io", true)).await.unwrap();
        assert_eq!(actor.role, PlatformRole::User);
    }

    #[tokio::test]
    async fn bootstrap_superusers_are_promoted_only_with_a_verified_email() {
        for (verified, role) in [(true, PlatformRole::Superuser), (false, PlatformRole::User)] {
            let mut repo = MockUserRepository::new();
            repo.expect_find_by_subject().returning(|_| Ok(None));
            repo.expect_create().returning(|n| Ok(stored(n)));
            let actor = service(repo, &["ADA@x.io"]).sign_in(&identity("ada@x.io", verified)).await.unwrap();
            assert_eq!(actor.role, role);
        }
    }

    #[tokio::test]
    async fn a_lost_creation_race_signs_in_as_the_winner() {
        let mut repo = MockUserRepository::new();
        let mut seq = mockall::Sequence::new();
        repo.expect_find_by_subject().times(1).in_sequence(&mut seq).returning(|_| Ok(None));
        // Not an erased subject either.
        repo.expect_find_by_subject().times(1).in_sequence(&mut seq).returning(|_| Ok(None));
        repo.expect_create().times(1).in_sequence(&mut seq).returning(|_| Err(CreateUserError::SubjectTaken));
        let winner = stored(&NewUser {
            identity: identity("ada@x.io", true),
            email: EmailAddress::parse("ada@x.io").unwrap(),
            display_name: DisplayName::parse("Ada L").unwrap(),
            username: Username::parse("ada").unwrap(),
            platform_role: PlatformRole::User,
            now: datetime!(2026-06-14 10:00:00 UTC),
        });
        repo.expect_find_by_subject().times(1).in_sequence(&mut seq).returning(move |_| Ok(Some(winner.clone())));
        let actor = service(repo, &[]).sign_in(&identity("ada@x.io", true)).await.unwrap();
        assert_eq!(actor.user_id, UserId::new(1));
    }

    #[tokio::test]
    async fn an_erased_subject_is_refused_not_provisioned_again() {
        let mut repo = MockUserRepository::new();
        let erased = stored(&NewUser {
            identity: identity("erased-1@erased.invalid", false),
            email: EmailAddress::parse("erased-1@erased.invalid").unwrap(),
            display_name: DisplayName::parse("Erased user").unwrap(),
            username: Username::parse("erased-1").unwrap(),
            platform_role: PlatformRole::User,
            now: datetime!(2026-06-14 10:00:00 UTC),
        });
        repo.expect_find_by_subject().returning(move |s| Ok((s == erased_subject("idp|1")).then(|| erased.clone())));
        repo.expect_create().never();
        let err = service(repo, &[]).sign_in(&identity("ada@x.io", true)).await.unwrap_err();
        assert!(matches!(err, SignInError::Erased), "{err:?}");
    }

    #[tokio::test]
    async fn a_changed_email_is_refreshed_but_the_display_name_is_not() {
        let mut repo = MockUserRepository::new();
        let existing = stored(&NewUser {
            identity: identity("old@x.io", false),
            email: EmailAddress::parse("old@x.io").unwrap(),
            display_name: DisplayName::parse("Chosen Name").unwrap(),
            username: Username::parse("old").unwrap(),
            platform_role: PlatformRole::User,
            now: datetime!(2026-06-01 10:00:00 UTC),
        });
        let returned = existing.clone();
        repo.expect_find_by_subject().returning(move |_| Ok(Some(existing.clone())));
        repo.expect_refresh_identity()
            .withf(|_, r, _| r.email.as_str() == "new@x.io" && r.email_verified)
            .times(1)
            .returning(move |_, _, _| Ok(Some(returned.clone())));
        service(repo, &[]).sign_in(&identity("new@x.io", true)).await.unwrap();
    }

    #[tokio::test]
    async fn an_unchanged_identity_costs_one_read() {
        let mut repo = MockUserRepository::new();
        let new = ada(&identity("ada@x.io", true), PlatformRole::User);
        let existing = stored(&new);
        repo.expect_find_by_subject().times(1).returning(move |_| Ok(Some(existing.clone())));
        repo.expect_refresh_identity().never();
        service(repo, &[]).sign_in(&identity("ada@x.io", true)).await.unwrap();
    }

    /// The one-read sign-in finds `existing`, which no longer reflects the
    /// token: the full sign-in reads it again and refreshes it to `refreshed`
    /// (to the e-mail `ada@x.io`, verified).
    fn expect_stale_sign_in(
        repo: &mut MockUserRepository,
        seq: &mut mockall::Sequence,
        existing: User,
        refreshed: User,
    ) {
        let stale = existing.clone();
        repo.expect_view_by_subject()
            .times(1)
            .in_sequence(seq)
            .returning(move |_, _| Ok(Some(record_of(stale.clone()))));
        repo.expect_find_by_subject().times(1).in_sequence(seq).returning(move |_| Ok(Some(existing.clone())));
        repo.expect_refresh_identity()
            .withf(|_, r, _| r.email.as_str() == "ada@x.io" && r.email_verified)
            .times(1)
            .in_sequence(seq)
            .returning(move |_, _, _| Ok(Some(refreshed.clone())));
    }

    fn record_of(user: User) -> UserRecord {
        UserRecord { user, memberships: Vec::new(), avatar_tries_used: 2 }
    }

    #[tokio::test]
    async fn signing_in_and_answering_an_unchanged_identity_is_one_read() {
        let mut repo = MockUserRepository::new();
        let identity = identity("ada@x.io", true);
        let new = ada(&identity, PlatformRole::Superuser);
        let existing = stored(&new);
        repo.expect_view_by_subject()
            .withf(|subject, _| subject == "idp|1")
            .times(1)
            .returning(move |_, _| Ok(Some(record_of(existing.clone()))));
        repo.expect_find_by_subject().never();
        repo.expect_view().never();
        let (actor, view) = service(repo, &[]).sign_in_and_view(&identity).await.unwrap();
        assert_eq!(actor, Actor { user_id: UserId::new(1), role: PlatformRole::Superuser });
        assert_eq!(view.avatar_upload_tries_remaining, 3);
    }

    #[tokio::test]
    async fn signing_in_and_answering_a_changed_identity_refreshes_before_the_view() {
        let mut repo = MockUserRepository::new();
        let before = identity("old@x.io", false);
        let new = ada(&before, PlatformRole::User);
        let existing = stored(&new);
        let mut refreshed = existing.clone();
        refreshed.email = EmailAddress::parse("ada@x.io").unwrap();
        refreshed.email_verified = true;
        let mut seq = mockall::Sequence::new();
        expect_stale_sign_in(&mut repo, &mut seq, existing, refreshed.clone());
        repo.expect_view().times(1).in_sequence(&mut seq).returning(move |_, _| Ok(Some(record_of(refreshed.clone()))));
        let (_, view) = service(repo, &[]).sign_in_and_view(&identity("ada@x.io", true)).await.unwrap();
        assert_eq!(view.user.email.as_str(), "ada@x.io");
        assert!(view.user.email_verified);
    }

    #[tokio::test]
    async fn a_user_deleted_while_signing_in_and_answering_is_gone() {
        let mut repo = MockUserRepository::new();
        repo.expect_view_by_subject().returning(|_, _| Ok(None));
        repo.expect_find_by_subject().returning(|_| Ok(None));
        repo.expect_create().returning(|n| Ok(stored(n)));
        repo.expect_view().returning(|_, _| Ok(None));
        let err = service(repo, &[]).sign_in_and_view(&identity("ada@x.io", true)).await.unwrap_err();
        assert!(matches!(err, SignInError::Gone));
    }

    #[tokio::test]
    async fn signing_in_and_changing_an_unchanged_identity_is_one_read_and_one_write() {
        let mut repo = MockUserRepository::new();
        let identity = identity("ada@x.io", true);
        let existing = stored(&ada(&identity, PlatformRole::User));
        let mut seq = mockall::Sequence::new();
        let read = existing.clone();
        repo.expect_view_by_subject()
            .times(1)
            .in_sequence(&mut seq)
            .returning(move |_, _| Ok(Some(record_of(read.clone()))));
        let mut renamed = existing.clone();
        renamed.display_name = DisplayName::parse("Countess").unwrap();
        repo.expect_change_profile()
            .withf(|id, change, _| {
                *id == UserId::new(1) && *change == ProfileChange::DisplayName(DisplayName::parse("Countess").unwrap())
            })
            .times(1)
            .in_sequence(&mut seq)
            .returning(move |_, _, _| Ok(Some(renamed.clone())));
        repo.expect_find_by_subject().never();
        repo.expect_view().never();
        let change = ProfileChange::DisplayName(DisplayName::parse("Countess").unwrap());
        let (actor, view) = service(repo, &[]).sign_in_and_change(&identity, &change).await.unwrap();
        assert_eq!(actor, Actor { user_id: UserId::new(1), role: PlatformRole::User });
        assert_eq!(view.user.display_name.as_str(), "Countess", "the view shows the written row");
        assert_eq!(view.avatar_upload_tries_remaining, 3, "and the tries of the sign-in read");
    }

    #[tokio::test]
    async fn signing_in_and_changing_a_changed_identity_refreshes_then_writes_then_reads() {
        let mut repo = MockUserRepository::new();
        let existing = stored(&ada(&identity("old@x.io", true), PlatformRole::User));
        let mut refreshed = existing.clone();
        refreshed.email = EmailAddress::parse("ada@x.io").unwrap();
        let mut seq = mockall::Sequence::new();
        expect_stale_sign_in(&mut repo, &mut seq, existing, refreshed.clone());
        let mut busy = refreshed.clone();
        busy.manual_status = Some(ManualStatus::Busy);
        let written = busy.clone();
        repo.expect_change_profile().times(1).in_sequence(&mut seq).returning(move |_, _, _| Ok(Some(written.clone())));
        repo.expect_view().times(1).in_sequence(&mut seq).returning(move |_, _| Ok(Some(record_of(busy.clone()))));
        let change = ProfileChange::ManualStatus(Some(ManualStatus::Busy));
        let (_, view) = service(repo, &[]).sign_in_and_change(&identity("ada@x.io", true), &change).await.unwrap();
        assert_eq!(view.user.email.as_str(), "ada@x.io");
        assert_eq!(view.user.manual_status, Some(ManualStatus::Busy));
    }

    #[tokio::test]
    async fn a_user_deleted_before_their_change_is_gone() {
        let mut repo = MockUserRepository::new();
        let identity = identity("ada@x.io", true);
        let existing = stored(&ada(&identity, PlatformRole::User));
        repo.expect_view_by_subject().returning(move |_, _| Ok(Some(record_of(existing.clone()))));
        repo.expect_change_profile().returning(|_, _, _| Ok(None));
        let change = ProfileChange::ManualStatus(None);
        let err = service(repo, &[]).sign_in_and_change(&identity, &change).await.unwrap_err();
        assert!(matches!(err, SignInError::Gone));
    }

    #[tokio::test]
    async fn a_new_user_without_an_email_claim_is_refused() {
        let mut repo = MockUserRepository::new();
        repo.expect_find_by_subject().returning(|_| Ok(None));
        repo.expect_create().never();
        let identity = Identity::new("idp|2", None, false, None, None, None).unwrap();
        let err = service(repo, &[]).sign_in(&identity).await.unwrap_err();
        assert!(matches!(err, SignInError::EmailMissing));
    }

    #[tokio::test]
    async fn a_user_deleted_mid_request_is_not_found() {
        let mut repo = MockUserRepository::new();
        repo.expect_view().returning(|_, _| Ok(None));
        let actor = Actor { user_id: UserId::new(7), role: PlatformRole::User };
        let err = service(repo, &[]).current(&actor).await.unwrap_err();
        assert!(matches!(err, UserError::NotFound));
    }

    #[tokio::test]
    async fn a_claimed_discord_id_is_linked_at_sign_in_unless_someone_else_holds_it() {
        let discord = shared_kernel::DiscordId::parse("80351110224678912").unwrap();
        for taken in [false, true] {
            let mut repo = MockUserRepository::new();
            repo.expect_find_by_subject().returning(|_| Ok(None));
            repo.expect_create().returning(|n| Ok(stored(n)));
            let linked = discord.clone();
            repo.expect_admin_update()
                .withf(move |_, u, _, by| u.discord_id == Some(Some(linked.clone())) && by.is_none())
                .times(1)
                .returning(move |_, u, _, _| {
                    if taken {
                        return Err(AdminUserError::DiscordIdTaken);
                    }
                    let mut user = stored(&NewUser {
                        identity: identity("ada@x.io", true),
                        email: EmailAddress::parse("ada@x.io").unwrap(),
                        display_name: DisplayName::parse("Ada").unwrap(),
                        username: Username::parse("ada").unwrap(),
                        platform_role: PlatformRole::User,
                        now: datetime!(2026-06-14 10:00:00 UTC),
                    });
                    user.discord_id = u.discord_id.clone().flatten();
                    Ok(user)
                });
            let id = identity("ada@x.io", true).with_discord_id(Some(discord.clone()));
            let actor = service(repo, &[]).sign_in(&id).await.unwrap();
            // A taken id leaves the sign-in working, only unlinked.
            assert_eq!(actor.user_id, UserId::new(1));
        }
    }

    #[tokio::test]
    async fn only_superusers_administer_users() {
        let user = Actor { user_id: UserId::new(2), role: PlatformRole::User };
        let svc = service(MockUserRepository::new(), &[]);
        let err = svc.admin_update(&user, UserId::new(1), &AdminUserUpdate::default()).await.unwrap_err();
        assert!(matches!(err, AdminUserError::Forbidden));
        let err = svc.search(&user, None, &PageRequest::default()).await.unwrap_err();
        assert!(matches!(err, AdminUserError::Forbidden));
    }
}
