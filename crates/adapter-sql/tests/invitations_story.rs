//! The organization and invitation story through the use cases, over the
//! SQL repositories, on SQLite and on PostgreSQL: the same calls, the same
//! answers. It checks that the adapter carries out what the model decides
//! (plans, guards, effects) in one transaction each.

use adapter_sql::{Database, PoolSettings, SqlInvitationRepository, SqlOrganizationRepository, SqlUserRepository};
use async_trait::async_trait;
use invitations::{
    AcceptError, ClientInfo, Delivery, HistoryCause, ImportOutcome, InvitationError, InvitationFilter, InvitationId,
    InvitationLinks, InvitationMail, InvitationService, InvitationState, InvitationStatus, InvitationToken, MaxUses,
    MemberFilter, MemberUpdate, MembershipDuration, MembershipStatus, Name, NewInvitation, Notifier, OrgError,
    OrganizationService, OsTokenGenerator, Pending, QuotaPolicy, Refusal,
};
use shared_kernel::{Actor, Clock, EmailAddress, FixedClock, OrgRole, PageRequest, PlatformRole, UserId};
use std::sync::{Arc, Mutex};
use test_support::postgres::{PgCluster, TestDatabase};
use time::Duration;
use time::macros::datetime;
use user_dto::{DisplayName, Identity, NewUser, UserPolicy, UserRepository, UserService, Username};

/// A notifier that records what it sends and fails while told to.
#[derive(Default)]
struct Outbox {
    sent: Mutex<Vec<InvitationMail>>,
    failing: Mutex<bool>,
}

#[async_trait]
impl Notifier for Outbox {
    async fn send_invitation(&self, mail: &InvitationMail) -> anyhow::Result<Delivery> {
        if *self.failing.lock().unwrap() {
            anyhow::bail!("connection refused");
        }
        self.sent.lock().unwrap().push(mail.clone());
        Ok(Delivery::Sent)
    }
}

struct Links;

impl InvitationLinks for Links {
    fn token_link(&self, token: &InvitationToken) -> String {
        format!("https://usher.test/#token={}", token.expose())
    }

    fn invitation_link(&self, id: InvitationId) -> String {
        format!("https://usher.test/?invitation={id}")
    }
}

struct World {
    db: Database,
    clock: Arc<FixedClock>,
    users: UserService,
    repo: SqlUserRepository,
    orgs: OrganizationService,
    invitations: InvitationService,
    outbox: Arc<Outbox>,
}

impl World {
    fn new(db: Database) -> Self {
        let clock = Arc::new(FixedClock::at(datetime!(2026-06-14 10:00:00.000001 UTC)));
        let repo = SqlUserRepository::new(db.clone());
        let policy =
            UserPolicy { avatar_tries_per_window: 5, avatar_window: Duration::days(1), ..UserPolicy::default() };
        let users = UserService::new(Arc::new(repo.clone()), clock.clone(), policy);
        let org_repo = Arc::new(SqlOrganizationRepository::new(db.clone()));
        let quotas = QuotaPolicy::default();
        let outbox = Arc::new(Outbox::default());
        let orgs = OrganizationService::new(org_repo.clone(), clock.clone(), quotas.clone());
        let invitations = InvitationService::new(
            org_repo,
            Arc::new(SqlInvitationRepository::new(db.clone())),
            Arc::new(OsTokenGenerator),
            outbox.clone(),
            clock.clone(),
            Arc::new(Links),
            quotas,
        );
        Self { db, clock, users, repo, orgs, invitations, outbox }
    }

    /// A user signed in with `name@x.io`, verified.
    async fn user(&self, name: &str) -> Actor {
        let email = EmailAddress::parse(&format!("{name}@x.io")).unwrap();
        let identity = Identity::new(&format!("idp|{name}"), Some(email), true, None, None, Some(name)).unwrap();
        self.users.sign_in(&identity).await.unwrap()
    }

    fn link(&self, org: invitations::OrganizationId, role: OrgRole) -> NewInvitation {
        NewInvitation::link(org, role)
    }
}

async fn story(world: World) {
    let w = &world;
    let client = ClientInfo::default();
    let (ada, bob, cy) = (w.user("ada").await, w.user("bob").await, w.user("cy").await);

    // Creating an organization makes its creator admin and switches to it.
    let org = w.orgs.create(&ada, &Name::parse("Acme School").unwrap()).await.unwrap();
    let view = w.users.current(&ada).await.unwrap();
    assert_eq!(view.user.current_organization_id, Some(org.id.as_uuid()));
    assert_eq!((view.memberships.len(), view.memberships[0].role), (1, OrgRole::Admin));
    assert_eq!(w.orgs.history(&ada, org.id, ada.user_id).await.unwrap()[0].cause, HistoryCause::Created);

    // Zones are unique by name regardless of case.
    let north = w.orgs.create_zone(&ada, org.id, &Name::parse("North").unwrap()).await.unwrap();
    let twin = w.orgs.create_zone(&ada, org.id, &Name::parse("NORTH").unwrap()).await;
    assert!(matches!(twin, Err(OrgError::ZoneNameTaken)), "{twin:?}");
    assert_eq!(w.orgs.zones(&ada, org.id).await.unwrap().len(), 1);

    // An invitation round-trips; accepting takes a use, creates the membership and logs.
    let mut new = w.link(org.id, OrgRole::Member);
    new.max_uses = MaxUses::new(2).unwrap();
    new.membership_duration = Some(MembershipDuration::seconds(3600).unwrap());
    let created = w.invitations.create(&ada, new).await.unwrap();
    let bobs = w.invitations.accept_token(&bob, &created.token, &client).await.unwrap();
    assert_eq!(bobs.expires_at, Some(w.clock.now() + Duration::hours(1)));
    let history = w.orgs.history(&ada, org.id, bob.user_id).await.unwrap();
    assert_eq!(
        (history[0].cause, history[0].changed_by, history[0].invitation_id),
        (HistoryCause::Invitation, Some(bob.user_id), Some(created.invitation.id))
    );
    // A resend's new token stales the old one.
    let resent = w.invitations.resend(&ada, created.invitation.id).await.unwrap();
    assert!(matches!(w.invitations.accept_token(&cy, &created.token, &client).await, Err(AcceptError::NotFound)));
    w.invitations.accept_token(&cy, &resent.token, &client).await.unwrap();
    let dee = w.user("dee").await;
    let used_up = w.invitations.accept_token(&dee, &resent.token, &client).await;
    assert!(matches!(used_up, Err(AcceptError::Refused(Refusal::UsedUp))), "{used_up:?}");
    let log = w.invitations.acceptances(&ada, created.invitation.id).await.unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].reason.as_deref(), Some("used_up"));

    // Lists by state, a page at a time; `mine` by the verified e-mail.
    let page = PageRequest::default();
    let by_state = |state| InvitationFilter { state: Some(state), ..InvitationFilter::default() };
    let accepted = w.invitations.list(&ada, org.id, by_state(InvitationState::Accepted), &page).await.unwrap();
    assert_eq!(accepted.items.len(), 1);
    let mut bound = w.link(org.id, OrgRole::Member);
    bound.email = Some(EmailAddress::parse("eve@x.io").unwrap());
    let for_eve = w.invitations.create(&ada, bound).await.unwrap();
    let eve = w.user("eve").await;
    assert_eq!(w.invitations.mine(&eve, &page).await.unwrap().items.len(), 1);
    let prefix = InvitationFilter { email_prefix: Some("EV".into()), ..InvitationFilter::default() };
    assert_eq!(w.invitations.list(&ada, org.id, prefix, &page).await.unwrap().items.len(), 1);

    // The outbox: sent once, retried after a failure, never twice.
    *w.outbox.failing.lock().unwrap() = true;
    assert_eq!(w.invitations.drain_outbox(10).await.unwrap(), 0);
    *w.outbox.failing.lock().unwrap() = false;
    assert_eq!(w.invitations.drain_outbox(10).await.unwrap(), 0, "not due before its backoff");
    w.clock.advance(Duration::minutes(1));
    assert_eq!(w.invitations.drain_outbox(10).await.unwrap(), 1);
    assert_eq!(w.invitations.drain_outbox(10).await.unwrap(), 0);
    assert_eq!(w.outbox.sent.lock().unwrap()[0].to.as_str(), "eve@x.io");
    // A mail of a revoked invitation is never sent.
    let mut to_fay = w.link(org.id, OrgRole::Guest);
    to_fay.email = Some(EmailAddress::parse("fay@x.io").unwrap());
    let to_fay = w.invitations.create(&ada, to_fay).await.unwrap();
    w.invitations.revoke(&ada, to_fay.invitation.id).await.unwrap();
    assert_eq!(w.invitations.drain_outbox(10).await.unwrap(), 0);
    assert_eq!(w.outbox.sent.lock().unwrap().len(), 1, "the revoked invitation's mail was cancelled");
    assert!(w.invitations.reject(&eve, for_eve.invitation.id, &client).await.is_ok());

    // Role changes write history; the last permanent admin cannot be demoted.
    let to_moderator =
        MemberUpdate { role: Some(OrgRole::Moderator), zones: Some(vec![north.id]), ..MemberUpdate::default() };
    let promoted = w.orgs.update_member(&ada, org.id, bob.user_id, &to_moderator).await.unwrap();
    assert_eq!((promoted.role, promoted.zones.clone()), (OrgRole::Moderator, vec![north.id]));
    let demote_self = MemberUpdate { role: Some(OrgRole::Member), ..MemberUpdate::default() };
    let refused = w.orgs.update_member(&ada, org.id, ada.user_id, &demote_self).await;
    assert!(matches!(refused, Err(OrgError::LastAdmin)), "{refused:?}");
    let history = w.orgs.history(&ada, org.id, bob.user_id).await.unwrap();
    assert_eq!(
        history.iter().map(|h| h.cause).collect::<Vec<_>>(),
        [HistoryCause::Invitation, HistoryCause::RoleChange]
    );
    assert_eq!(history[0].valid_to, Some(w.clock.now()));
    assert_eq!((history[1].changed_by, history[1].zones.clone()), (Some(ada.user_id), vec![north.id]));

    // A zone moderator sees and invites inside their zone only.
    let mut to_north = w.link(org.id, OrgRole::Member);
    to_north.zone_id = Some(north.id);
    let north_link = w.invitations.create(&bob, to_north).await.unwrap();
    w.invitations.accept_token(&dee, &north_link.token, &client).await.unwrap();
    let outside = w.invitations.create(&bob, w.link(org.id, OrgRole::Member)).await;
    assert!(matches!(outside, Err(InvitationError::Org(OrgError::OutOfScope))), "{outside:?}");
    let seen = w.orgs.members(&bob, org.id, MemberFilter::default(), &page).await.unwrap();
    assert_eq!(
        seen.items.iter().map(|m| m.email.as_str()).collect::<Vec<_>>(),
        ["dee@x.io", "bob@x.io"],
        "North's, newest first"
    );
    let everyone = w.orgs.members(&ada, org.id, MemberFilter::default(), &page).await.unwrap();
    assert_eq!(everyone.items.len(), 4);
    // Pages of two: the same members, newest first, in two pages.
    let first = w
        .orgs
        .members(&ada, org.id, MemberFilter::default(), &PageRequest::parse(Some(2), None).unwrap())
        .await
        .unwrap();
    let cursor = first.next_cursor.clone().expect("a second page");
    let second = w
        .orgs
        .members(&ada, org.id, MemberFilter::default(), &PageRequest::parse(Some(2), Some(&cursor)).unwrap())
        .await
        .unwrap();
    let paged: Vec<_> = first.items.iter().chain(&second.items).map(|m| m.membership.id).collect();
    assert_eq!(paged, everyone.items.iter().map(|m| m.membership.id).collect::<Vec<_>>());
    assert!(matches!(w.orgs.remove(&bob, org.id, cy.user_id, false).await, Err(OrgError::OutOfScope)));

    // Removing with a block keeps the member out of every link until unblocked.
    w.orgs.remove(&bob, org.id, dee.user_id, true).await.unwrap();
    let again = w.invitations.create(&ada, w.link(org.id, OrgRole::Guest)).await.unwrap();
    let blocked = w.invitations.accept_token(&dee, &again.token, &client).await;
    assert!(matches!(blocked, Err(AcceptError::Refused(Refusal::Blocked))), "{blocked:?}");
    assert_eq!(w.orgs.blocks(&ada, org.id).await.unwrap().len(), 1);
    w.orgs.unblock(&ada, org.id, dee.user_id).await.unwrap();
    w.invitations.accept_token(&dee, &again.token, &client).await.unwrap();

    // Leaving revokes the member's pending links and clears their current organization.
    w.orgs.switch(&bob, org.id).await.unwrap();
    let mut bobs_link = w.link(org.id, OrgRole::Guest);
    bobs_link.zone_id = Some(north.id);
    let bobs_link = w.invitations.create(&bob, bobs_link).await.unwrap();
    w.orgs.leave(&bob, org.id).await.unwrap();
    let revoked = w.invitations.preview(&bobs_link.token).await.unwrap();
    assert_eq!(revoked.invitation.status, InvitationStatus::Revoked);
    let view = w.users.current(&bob).await.unwrap();
    assert_eq!(view.user.current_organization_id, None);
    assert_eq!(view.memberships[0].status, user_dto::MembershipStatus::Inactive, "ended memberships show for 30 days");

    // The sidebar lists granting memberships; the sweeper ends lapsed ones once.
    assert_eq!(w.orgs.sidebar(&cy).await.unwrap().len(), 1);
    w.clock.advance(Duration::hours(2));
    assert!(w.orgs.sidebar(&cy).await.unwrap().is_empty(), "a time-bound membership lapses at its expiry");
    let active = MemberFilter { status: Some(MembershipStatus::Active), ..MemberFilter::default() };
    assert_eq!(w.orgs.members(&ada, org.id, active, &page).await.unwrap().items.len(), 2, "ada and dee");
    assert_eq!(w.orgs.sweep(100).await.unwrap(), 1, "cy's");
    assert_eq!(w.orgs.sweep(100).await.unwrap(), 0);
    let history = w.orgs.history(&ada, org.id, cy.user_id).await.unwrap();
    assert_eq!(
        (history.last().unwrap().cause, history.last().unwrap().status),
        (HistoryCause::Expired, MembershipStatus::Inactive)
    );
    w.clock.advance(Duration::days(31));
    assert!(w.users.current(&bob).await.unwrap().memberships.is_empty(), "and are gone after 30 days");

    // Renaming.
    let renamed = w.orgs.rename(&ada, org.id, &Name::parse("Acme Academy").unwrap()).await.unwrap();
    assert_eq!(renamed.name, "Acme Academy");
    w.db.close().await;
}

#[tokio::test]
async fn the_invitation_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    story(World::new(sqlite(&dir).await)).await;
}

#[tokio::test]
async fn the_invitation_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    story(World::new(postgres(&test_db).await)).await;
}

async fn sqlite(dir: &tempfile::TempDir) -> Database {
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let db = Database::connect(&url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    db
}

async fn postgres(test_db: &TestDatabase) -> Database {
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    db
}

/// Creates an account with `email` as the identity provider reported it, without signing in through the service.
async fn account(w: &World, subject: &str, email: &str, verified: bool) -> UserId {
    let email = EmailAddress::parse(email).unwrap();
    let new = NewUser {
        identity: Identity::new(subject, Some(email.clone()), verified, None, None, None).unwrap(),
        email,
        display_name: DisplayName::parse(subject).unwrap(),
        username: Username::parse(subject).unwrap(),
        platform_role: PlatformRole::User,
        now: w.clock.now(),
    };
    w.repo.create(&new).await.unwrap().id
}

async fn import_story(world: World) {
    let w = &world;
    let ada = w.user("ada").await;
    let org = w.orgs.create(&ada, &Name::parse("Fio School").unwrap()).await.unwrap();
    let bob = w.user("bob").await;
    let unverified = account(w, "mallory", "mal@x.io", false).await;
    let joined = w.clock.now() - Duration::days(400);
    let line = |org: &str, mail: &str| invitations::ImportLine {
        organization: org.to_owned(),
        email: EmailAddress::parse(mail).unwrap(),
        role: OrgRole::Moderator,
        joined_at: joined,
    };
    let lines = [
        line("Fio School", "bob@x.io"),
        line(&org.slug, "new@x.io"),
        line(&org.id.to_string(), "ada@x.io"),
        line("Fio School", "mal@x.io"),
        line("Nowhere", "bob@x.io"),
    ];
    let outcomes = |reports: Vec<invitations::ImportReport>| reports.into_iter().map(|r| r.outcome).collect::<Vec<_>>();
    assert_eq!(
        outcomes(w.invitations.import(&lines, &OsTokenGenerator).await.unwrap()),
        [
            ImportOutcome::Joined(bob.user_id),
            ImportOutcome::Invited(Pending::NoAccount),
            ImportOutcome::Unchanged,
            ImportOutcome::Invited(Pending::Unverified(vec![unverified])),
            ImportOutcome::UnknownOrganization,
        ]
    );
    // Re-running changes nothing.
    let again = outcomes(w.invitations.import(&lines[..4], &OsTokenGenerator).await.unwrap());
    assert!(again.iter().all(|o| *o == ImportOutcome::Unchanged), "{again:?}");
    let history = w.orgs.history(&ada, org.id, bob.user_id).await.unwrap();
    assert_eq!((history[0].cause, history[0].valid_from), (HistoryCause::Import, joined));
    assert!(history[0].invitation_id.is_some());
    assert_eq!(w.orgs.authority(&ada, org.id).await.unwrap().role(), OrgRole::Admin, "kept");

    // The unverified account never joins; the newcomer joins at their first verified sign-in, once.
    assert_eq!(w.invitations.apply_imports(10).await.unwrap(), 0);
    assert!(w.orgs.authority(&Actor { user_id: unverified, role: PlatformRole::User }, org.id).await.is_err());
    let newcomer = w.user("new").await;
    assert_eq!(w.invitations.apply_imports(10).await.unwrap(), 1);
    assert_eq!(w.invitations.apply_imports(10).await.unwrap(), 0);
    let theirs = w.orgs.authority(&newcomer, org.id).await.unwrap();
    assert_eq!((theirs.role(), theirs.membership().joined_at), (OrgRole::Moderator, joined));
    w.db.close().await;
}

#[tokio::test]
async fn the_import_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    import_story(World::new(sqlite(&dir).await)).await;
}

#[tokio::test]
async fn the_import_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    import_story(World::new(postgres(&test_db).await)).await;
}
