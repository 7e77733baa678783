//! The ports' conformance suite (feature `testing`): every adapter of
//! [`OrganizationRepository`] and [`InvitationRepository`] runs these
//! cases and must pass them, so the in-memory adapter and the SQL one on
//! SQLite and PostgreSQL answer the same calls the same way.
//!
//! Each case takes a [`Subject`]: fresh, empty repositories and the
//! [`Accounts`] that create users in them (users belong to the host's
//! bounded context, not to this crate). The stories go through the use
//! cases, as the app does; the contract cases call the ports directly with
//! the plans the model makes, and check that a refused guard or a lost
//! compare-and-set leaves nothing written.
//!
//! [`conformance_tests!`](crate::conformance_tests) writes one `#[tokio::test]` per case:
//!
//! ```text
//! mod memory {
//!     async fn subject() -> (organizations::testing::Subject, ()) { /* fresh repositories */ }
//!     organizations::conformance_tests!(subject());
//! }
//! ```

use crate::error::{AcceptError, InvitationError, OrgError, WriteError};
use crate::model::{
    AcceptContext, AcceptVia, ClientInfo, Delivery, Effect, EndReason, Grantor, Guard, HistoryCause, HistoryNote,
    ImportLine, InvitationFilter, InvitationId, InvitationMail, InvitationState, InvitationStatus, InvitationToken,
    MaxUses, MemberFilter, MemberQuery, MemberSearch, MemberUpdate, Membership, MembershipDuration, MembershipPlan,
    MembershipStatus, MembershipWrite, Name, NewInvitation, OrganizationId, Pending, QuotaPolicy, Refusal, SEND_LEASE,
    Standing, Unblock, Validity,
};
use crate::ports::{InvitationLinks, InvitationRepository, Notifier, OrganizationRepository, OsTokenGenerator};
use crate::service::{ImportOutcome, ImportReport, InvitationService, OrganizationService};
use async_trait::async_trait;
use shared_kernel::{
    Actor, Clock, EmailAddress, EventLog, FeedQuery, FixedClock, OrgRole, PageRequest, PlatformRole, Recorded, UserId,
};
use std::sync::{Arc, Mutex};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// Creates the users a case needs and reads what the ports maintain on
/// them, in the adapter's own user store.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Creates an account with `name` as its display name (and, where the
    /// host has one, its username and subject) and `email`, verified or not.
    async fn create(&self, name: &str, email: &EmailAddress, verified: bool) -> anyhow::Result<UserId>;

    /// The account's current organization.
    async fn current_organization(&self, user: UserId) -> anyhow::Result<Option<OrganizationId>>;
}

/// What a case runs against: repositories over one fresh, empty store.
#[derive(Clone)]
pub struct Subject {
    /// The organization port.
    pub organizations: Arc<dyn OrganizationRepository>,
    /// The invitation port.
    pub invitations: Arc<dyn InvitationRepository>,
    /// The store's users.
    pub accounts: Arc<dyn Accounts>,
    /// The store's event log, which both ports append to.
    pub events: Arc<dyn EventLog>,
}

/// One `#[tokio::test]` per case of the suite. `$subject` is an expression
/// evaluated afresh for each test, a future of `(Subject, keep)`, where
/// `keep` (a temporary directory, a test database) lives until the test
/// ends. The calling crate needs tokio with `macros` and a runtime.
#[macro_export]
macro_rules! conformance_tests {
    ($subject:expr) => {
        $crate::conformance_tests!(@cases $subject;
            the_invitation_story_holds => story,
            the_import_story_holds => import_story,
            a_refused_guard_leaves_nothing_written => refused_guards_write_nothing,
            a_stale_version_is_a_conflict => stale_versions_conflict,
            an_active_permanent_admin_remains => the_last_permanent_admin_remains,
            quotas_refuse_past_their_limit => quotas_refuse_past_their_limit,
            due_expiries_are_the_lapsed_ones_soonest_first => due_expiries_are_lapsed_and_soonest_first,
            an_outbox_mail_is_claimed_once => an_outbox_mail_is_claimed_once,
            rezoning_revokes_the_links_the_creator_may_no_longer_grant => rezoning_revokes_the_links_the_creator_may_no_longer_grant,
            the_members_search_finds_a_prefix_of_a_name_or_an_email => the_members_search_finds_a_prefix_of_a_name_or_an_email,
            each_change_writes_its_events_and_a_refused_one_none => each_change_writes_its_events_and_a_refused_one_none,
        );
    };
    (@cases $subject:expr; $($test:ident => $case:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                let (subject, keep) = $subject.await;
                $crate::testing::$case(&subject).await;
                // The repositories (and their connections) go before what they live in.
                drop(subject);
                drop(keep);
            }
        )+
    };
}

/// A notifier that records what it sends and fails while told to.
#[derive(Default)]
struct Outbox {
    sent: Mutex<Vec<InvitationMail>>,
    failing: Mutex<bool>,
}

impl Outbox {
    fn fail(&self, failing: bool) {
        *self.failing.lock().unwrap() = failing;
    }

    fn sent(&self) -> Vec<InvitationMail> {
        self.sent.lock().unwrap().clone()
    }
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

/// The use cases over a subject, at a settable instant (with microseconds,
/// which every store keeps).
struct World<'a> {
    subject: &'a Subject,
    clock: Arc<FixedClock>,
    orgs: OrganizationService,
    invitations: InvitationService,
    outbox: Arc<Outbox>,
}

impl<'a> World<'a> {
    fn new(subject: &'a Subject) -> Self {
        Self::with_quotas(subject, QuotaPolicy::default())
    }

    fn with_quotas(subject: &'a Subject, quotas: QuotaPolicy) -> Self {
        let clock = Arc::new(FixedClock::at(datetime!(2026-06-14 10:00:00.000001 UTC)));
        let outbox = Arc::new(Outbox::default());
        let orgs = OrganizationService::new(subject.organizations.clone(), clock.clone(), quotas.clone());
        let invitations = InvitationService::new(
            subject.organizations.clone(),
            subject.invitations.clone(),
            Arc::new(OsTokenGenerator),
            outbox.clone(),
            clock.clone(),
            Arc::new(Links),
            quotas,
        );
        Self { subject, clock, orgs, invitations, outbox }
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// A user with the verified e-mail `name@x.io`.
    async fn user(&self, name: &str) -> Actor {
        let id = self.account(name, &format!("{name}@x.io"), true).await;
        Actor { user_id: id, role: PlatformRole::User }
    }

    async fn account(&self, name: &str, email: &str, verified: bool) -> UserId {
        let email = EmailAddress::parse(email).expect("a valid e-mail");
        self.subject.accounts.create(name, &email, verified).await.expect("creating an account")
    }

    async fn current(&self, user: &Actor) -> Option<OrganizationId> {
        self.subject.accounts.current_organization(user.user_id).await.expect("reading a current organization")
    }

    async fn organization(&self, creator: &Actor, name: &str) -> OrganizationId {
        self.orgs.create(creator, &Name::parse(name).unwrap()).await.expect("creating an organization").id
    }

    async fn membership(&self, org: OrganizationId, user: &Actor) -> Option<Membership> {
        self.subject.organizations.active_membership(org, user.user_id).await.unwrap()
    }

    /// `user` joins `org` as `role` through an open link `by` created.
    async fn join(&self, by: &Actor, org: OrganizationId, user: &Actor, role: OrgRole) -> Membership {
        let link = self.invitations.create(by, NewInvitation::link(org, role)).await.expect("a link");
        self.invitations.accept_token(user, &link.token, &ClientInfo::default()).await.expect("joining")
    }
}

fn link(org: OrganizationId, role: OrgRole) -> NewInvitation {
    NewInvitation::link(org, role)
}

fn email(raw: &str) -> EmailAddress {
    EmailAddress::parse(raw).unwrap()
}

/// A plan writing `write` with `guards`, noted as a role change by `by`.
fn plan(write: MembershipWrite, guards: Vec<Guard>, by: UserId, at: OffsetDateTime) -> MembershipPlan {
    let history = HistoryNote { cause: HistoryCause::RoleChange, changed_by: Some(by), invitation_id: None, at };
    MembershipPlan { write, history, guards, effects: vec![] }
}

/// The next version of `m` holding `role`.
fn as_role(m: &Membership, role: OrgRole) -> Membership {
    Membership { role, version: m.version + 1, ..m.clone() }
}

/// The organization and invitation story through the use cases: founding,
/// zones, links and their uses, resends, lists, the outbox, role changes,
/// zone moderators, blocks, leaving, the sidebar, the sweeper, renaming.
pub async fn story(subject: &Subject) {
    let w = &World::new(subject);
    let client = ClientInfo::default();
    let (ada, bob, cy) = (w.user("ada").await, w.user("bob").await, w.user("cy").await);

    // Creating an organization makes its creator admin and switches to it.
    let org = w.orgs.create(&ada, &Name::parse("Acme School").unwrap()).await.unwrap();
    assert_eq!(w.current(&ada).await, Some(org.id));
    let sidebar = w.orgs.sidebar(&ada).await.unwrap();
    assert_eq!((sidebar.len(), sidebar[0].membership.role), (1, OrgRole::Admin));
    assert_eq!(w.orgs.history(&ada, org.id, ada.user_id).await.unwrap()[0].cause, HistoryCause::Created);
    assert_eq!(subject.organizations.find(&org.slug).await.unwrap().map(|o| o.id), Some(org.id));
    assert_eq!(subject.organizations.find("Acme School").await.unwrap().map(|o| o.id), Some(org.id));

    // Zones are unique by name regardless of case.
    let north = w.orgs.create_zone(&ada, org.id, &Name::parse("North").unwrap()).await.unwrap();
    let twin = w.orgs.create_zone(&ada, org.id, &Name::parse("NORTH").unwrap()).await;
    assert!(matches!(twin, Err(OrgError::ZoneNameTaken)), "{twin:?}");
    assert_eq!(w.orgs.zones(&ada, org.id).await.unwrap().len(), 1);

    // An invitation round-trips; accepting takes a use, creates the membership and logs.
    let mut new = link(org.id, OrgRole::Member);
    new.max_uses = MaxUses::new(2).unwrap();
    new.membership_duration = Some(MembershipDuration::seconds(3600).unwrap());
    let created = w.invitations.create(&ada, new).await.unwrap();
    let bobs = w.invitations.accept_token(&bob, &created.token, &client).await.unwrap();
    assert_eq!(bobs.expires_at, Some(w.now() + Duration::hours(1)));
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
    let mut bound = link(org.id, OrgRole::Member);
    bound.email = Some(email("eve@x.io"));
    let for_eve = w.invitations.create(&ada, bound).await.unwrap();
    let eve = w.user("eve").await;
    assert_eq!(w.invitations.mine(&eve, &page).await.unwrap().items.len(), 1);
    let prefix = InvitationFilter { email_prefix: Some("EV".into()), ..InvitationFilter::default() };
    assert_eq!(w.invitations.list(&ada, org.id, prefix, &page).await.unwrap().items.len(), 1);

    // The outbox: sent once, retried after a failure, never twice.
    w.outbox.fail(true);
    assert_eq!(w.invitations.drain_outbox(10).await.unwrap(), 0);
    w.outbox.fail(false);
    assert_eq!(w.invitations.drain_outbox(10).await.unwrap(), 0, "not due before its backoff");
    w.clock.advance(Duration::minutes(1));
    assert_eq!(w.invitations.drain_outbox(10).await.unwrap(), 1);
    assert_eq!(w.invitations.drain_outbox(10).await.unwrap(), 0);
    assert_eq!(w.outbox.sent()[0].to.as_str(), "eve@x.io");
    // A mail of a revoked invitation is never sent.
    let mut to_fay = link(org.id, OrgRole::Guest);
    to_fay.email = Some(email("fay@x.io"));
    let to_fay = w.invitations.create(&ada, to_fay).await.unwrap();
    w.invitations.revoke(&ada, to_fay.invitation.id).await.unwrap();
    assert_eq!(w.invitations.drain_outbox(10).await.unwrap(), 0);
    assert_eq!(w.outbox.sent().len(), 1, "the revoked invitation's mail was cancelled");
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
    assert_eq!(history[0].valid_to, Some(w.now()));
    assert_eq!((history[1].changed_by, history[1].zones.clone()), (Some(ada.user_id), vec![north.id]));

    // A zone moderator sees and invites inside their zone only.
    let mut to_north = link(org.id, OrgRole::Member);
    to_north.zone_id = Some(north.id);
    let north_link = w.invitations.create(&bob, to_north).await.unwrap();
    w.invitations.accept_token(&dee, &north_link.token, &client).await.unwrap();
    let outside = w.invitations.create(&bob, link(org.id, OrgRole::Member)).await;
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
    assert_eq!(second.next_cursor, None);
    let paged: Vec<_> = first.items.iter().chain(&second.items).map(|m| m.membership.id).collect();
    assert_eq!(paged, everyone.items.iter().map(|m| m.membership.id).collect::<Vec<_>>());
    assert!(matches!(w.orgs.remove(&bob, org.id, cy.user_id, false).await, Err(OrgError::OutOfScope)));

    // Removing with a block keeps the member out of every link until unblocked.
    w.orgs.remove(&bob, org.id, dee.user_id, true).await.unwrap();
    let again = w.invitations.create(&ada, link(org.id, OrgRole::Guest)).await.unwrap();
    let blocked = w.invitations.accept_token(&dee, &again.token, &client).await;
    assert!(matches!(blocked, Err(AcceptError::Refused(Refusal::Blocked))), "{blocked:?}");
    let blocks = w.orgs.blocks(&ada, org.id).await.unwrap();
    assert_eq!(
        blocks.iter().map(|b| (b.user_id, b.email.as_str(), b.blocked_by)).collect::<Vec<_>>(),
        [(dee.user_id, "dee@x.io", bob.user_id)]
    );
    w.orgs.unblock(&ada, org.id, dee.user_id).await.unwrap();
    w.invitations.accept_token(&dee, &again.token, &client).await.unwrap();

    // Leaving revokes the member's pending links and clears their current organization.
    w.orgs.switch(&bob, org.id).await.unwrap();
    assert_eq!(w.current(&bob).await, Some(org.id));
    let mut bobs_link = link(org.id, OrgRole::Guest);
    bobs_link.zone_id = Some(north.id);
    let bobs_link = w.invitations.create(&bob, bobs_link).await.unwrap();
    w.orgs.leave(&bob, org.id).await.unwrap();
    let revoked = w.invitations.preview(&bobs_link.token).await.unwrap();
    assert_eq!(revoked.invitation.status, InvitationStatus::Revoked);
    assert_eq!(w.current(&bob).await, None);
    assert!(w.orgs.sidebar(&bob).await.unwrap().is_empty());
    let left = w.orgs.history(&ada, org.id, bob.user_id).await.unwrap();
    assert_eq!(
        (left.last().unwrap().cause, left.last().unwrap().status),
        (HistoryCause::Left, MembershipStatus::Inactive)
    );

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

    // Renaming.
    let renamed = w.orgs.rename(&ada, org.id, &Name::parse("Acme Academy").unwrap()).await.unwrap();
    assert_eq!(renamed.name, "Acme Academy");
}

/// Legacy imports: who joins at once, who gets a pending invitation,
/// re-running changes nothing, and an invitee joins at their first
/// verified sign-in, once.
pub async fn import_story(subject: &Subject) {
    let w = &World::new(subject);
    let ada = w.user("ada").await;
    let org = w.orgs.create(&ada, &Name::parse("Fio School").unwrap()).await.unwrap();
    let bob = w.user("bob").await;
    let unverified = w.account("mallory", "mal@x.io", false).await;
    let joined = w.now() - Duration::days(400);
    let line = |org: &str, mail: &str| ImportLine {
        organization: org.to_owned(),
        email: email(mail),
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
    let outcomes = |reports: Vec<ImportReport>| reports.into_iter().map(|r| r.outcome).collect::<Vec<_>>();
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
}

/// A plan, an accept or an insert whose guard fails writes nothing: not
/// the membership, not its history, not an earlier plan of the same call,
/// not a use of the invitation, not the log, not the e-mail.
pub async fn refused_guards_write_nothing(subject: &Subject) {
    let w = &World::new(subject);
    let orgs = &subject.organizations;
    let (ada, bob, cy) = (w.user("ada").await, w.user("bob").await, w.user("cy").await);
    let org = w.organization(&ada, "Guarded").await;
    let admin = w.membership(org, &ada).await.unwrap();
    let now = w.now();
    let join = |user: &Actor| Membership::start(org, user.user_id, OrgRole::Member, vec![], None, None, now);

    // `Unchanged` on a version that moved: a conflict, and the earlier plan of the call is undone too.
    let stale = Guard::Unchanged { membership_id: admin.id, version: admin.version + 1 };
    let fine = plan(MembershipWrite::Insert(join(&cy)), vec![], ada.user_id, now);
    let refused = plan(MembershipWrite::Insert(join(&bob)), vec![stale], ada.user_id, now);
    let err = orgs.apply(&[fine.clone(), refused]).await;
    assert!(matches!(err, Err(WriteError::Conflict)), "{err:?}");
    for user in [&bob, &cy] {
        assert_eq!(w.membership(org, user).await, None);
        assert!(orgs.history(org, user.user_id).await.unwrap().is_empty());
    }

    // `NotBlocked` on a blocked user: refused, nothing written.
    let block = Effect::Block { organization_id: org, user_id: bob.user_id, blocked_by: ada.user_id, at: now };
    let mut blocking = plan(MembershipWrite::Insert(join(&cy)), vec![], ada.user_id, now);
    blocking.effects.push(block);
    orgs.apply(&[blocking]).await.unwrap();
    assert!(orgs.is_blocked(org, bob.user_id).await.unwrap());
    // The standing an acceptance is decided on: both memberships and the block, read together.
    let admin = w.membership(org, &ada).await.unwrap();
    let cys = w.membership(org, &cy).await;
    let standing = orgs.standing(org, Some(ada.user_id), bob.user_id).await.unwrap();
    assert_eq!(standing, Standing { grantor: Some(admin.clone()), existing: None, blocked: true });
    let standing = orgs.standing(org, Some(ada.user_id), cy.user_id).await.unwrap();
    assert_eq!(standing, Standing { grantor: Some(admin.clone()), existing: cys, blocked: false });
    let standing = orgs.standing(org, None, bob.user_id).await.unwrap();
    assert_eq!(standing, Standing { grantor: None, existing: None, blocked: true }, "no membership, still the block");
    let standing = orgs.standing(org, Some(ada.user_id), ada.user_id).await.unwrap();
    assert_eq!(standing, Standing { grantor: Some(admin.clone()), existing: Some(admin.clone()), blocked: false });
    let not_blocked = Guard::NotBlocked { organization_id: org, user_id: bob.user_id };
    let err = orgs.apply(&[plan(MembershipWrite::Insert(join(&bob)), vec![not_blocked], ada.user_id, now)]).await;
    assert!(matches!(err, Err(WriteError::Blocked)), "{err:?}");
    assert_eq!(w.membership(org, &bob).await, None);
    assert!(orgs.history(org, bob.user_id).await.unwrap().is_empty());
    let lift = Unblock { organization_id: org, user_id: bob.user_id, by: ada.user_id, at: now };
    assert!(orgs.unblock(&lift).await.unwrap());
    assert!(!orgs.unblock(&lift).await.unwrap(), "there was one block");

    // One active membership per (organization, user): a second insert is a conflict.
    let err = orgs.apply(&[fine]).await;
    assert!(matches!(err, Err(WriteError::Conflict)), "{err:?}");
    assert_eq!(orgs.history(org, cy.user_id).await.unwrap().len(), 1);

    // An accept whose creator's membership changed since the decision takes no use and logs nothing.
    let mut two = link(org, OrgRole::Member);
    two.max_uses = MaxUses::new(2).unwrap();
    let created = w.invitations.create(&ada, two).await.unwrap();
    let invitation = created.invitation.clone();
    let dee = w.user("dee").await;
    let invitee = orgs.invitee(dee.user_id).await.unwrap().unwrap();
    let grantor = Grantor::Member(Some(admin.clone()));
    let ctx = AcceptContext {
        invitee: &invitee,
        existing: None,
        grantor: &grantor,
        blocked: false,
        client: &ClientInfo::default(),
        via: AcceptVia::Invitation,
        now,
    };
    let mut accept = invitation.accept(&ctx).expect("an acceptance");
    accept.membership.guards.push(Guard::Unchanged { membership_id: admin.id, version: admin.version + 1 });
    let err = subject.invitations.accept(&accept).await;
    assert!(matches!(err, Err(WriteError::Conflict)), "{err:?}");
    let stored = subject.invitations.find(invitation.id).await.unwrap().unwrap();
    assert_eq!((stored.use_count, stored.version), (0, invitation.version));
    assert!(subject.invitations.acceptances(invitation.id).await.unwrap().is_empty());
    assert_eq!(w.membership(org, &dee).await, None);
    // The same accept with its guards intact goes through.
    let accept = invitation.accept(&ctx).expect("an acceptance");
    subject.invitations.accept(&accept).await.unwrap();
    let stored = subject.invitations.find(invitation.id).await.unwrap().unwrap();
    assert_eq!((stored.use_count, stored.status), (1, InvitationStatus::Pending));
    assert_eq!(subject.invitations.acceptances(invitation.id).await.unwrap().len(), 1);
    assert!(w.membership(org, &dee).await.is_some());
    // Decided again from the same stale read (dee not yet a member): a use is free, but the
    // insert meets dee's active membership, so it conflicts and the use is given back.
    let racing = invitation.accept(&ctx).expect("an acceptance");
    let err = subject.invitations.accept(&racing).await;
    assert!(matches!(err, Err(WriteError::Conflict)), "{err:?}");
    let stored = subject.invitations.find(invitation.id).await.unwrap().unwrap();
    assert_eq!(stored.use_count, 1);
    assert_eq!(subject.invitations.acceptances(invitation.id).await.unwrap().len(), 1);

    // An insert whose quota is full writes neither the invitation nor its e-mail.
    let tight = QuotaPolicy { emails_per_recipient_per_day: 1, ..QuotaPolicy::default() };
    let w = &World::with_quotas(subject, tight);
    let mut to_fay = link(org, OrgRole::Guest);
    to_fay.email = Some(email("fay@x.io"));
    w.invitations.create(&ada, to_fay.clone()).await.unwrap();
    let err = w.invitations.create(&ada, to_fay).await;
    assert!(matches!(err, Err(InvitationError::Org(OrgError::Quota(_)))), "{err:?}");
    let page = PageRequest::default();
    let to_fays = InvitationFilter { email_prefix: Some("fay".into()), ..InvitationFilter::default() };
    assert_eq!(w.invitations.list(&ada, org, to_fays, &page).await.unwrap().items.len(), 1);
    assert_eq!(subject.invitations.due_mails(w.now(), 100).await.unwrap().len(), 1, "one e-mail queued");
}

/// A write over a version that moved is a `Conflict` and changes nothing:
/// memberships, switching organization, and invitation updates.
pub async fn stale_versions_conflict(subject: &Subject) {
    let w = &World::new(subject);
    let orgs = &subject.organizations;
    let (ada, bob) = (w.user("ada").await, w.user("bob").await);
    let org = w.organization(&ada, "Versioned").await;
    let member = w.join(&ada, org, &bob, OrgRole::Member).await;
    let now = w.now();

    let promote = plan(MembershipWrite::Update(as_role(&member, OrgRole::Moderator)), vec![], ada.user_id, now);
    orgs.apply(std::slice::from_ref(&promote)).await.unwrap();
    let demote = plan(MembershipWrite::Update(as_role(&member, OrgRole::Guest)), vec![], ada.user_id, now);
    let err = orgs.apply(&[demote]).await;
    assert!(matches!(err, Err(WriteError::Conflict)), "{err:?}");
    let stored = w.membership(org, &bob).await.unwrap();
    assert_eq!((stored.role, stored.version), (OrgRole::Moderator, member.version + 1));
    assert_eq!(orgs.history(org, bob.user_id).await.unwrap().len(), 2, "joined, promoted");

    // An ended membership is no longer stored active: nothing updates it.
    let ended = stored.ended(EndReason::Removed, now);
    orgs.apply(&[plan(MembershipWrite::Update(ended.clone()), vec![], ada.user_id, now)]).await.unwrap();
    let err =
        orgs.apply(&[plan(MembershipWrite::Update(as_role(&ended, OrgRole::Member)), vec![], ada.user_id, now)]).await;
    assert!(matches!(err, Err(WriteError::Conflict)), "{err:?}");
    assert_eq!(w.membership(org, &bob).await, None);

    // Switching to an organization over a membership that moved.
    let err = orgs.set_current(&member, now).await;
    assert!(matches!(err, Err(WriteError::Conflict)), "{err:?}");
    assert_eq!(subject.accounts.current_organization(bob.user_id).await.unwrap(), None);

    // An invitation update: only while pending, and a resend only over the token read.
    let created = w.invitations.create(&ada, link(org, OrgRole::Guest)).await.unwrap();
    let resent = w.invitations.resend(&ada, created.invitation.id).await.unwrap();
    let authority = w.orgs.authority(&ada, org).await.unwrap();
    let token = InvitationToken::from_bytes(&[7; 32]);
    let stale_resend = authority.resend(&created.invitation, &token, &QuotaPolicy::default()).unwrap();
    let err = subject.invitations.update(&stale_resend, None, None).await;
    assert!(matches!(err, Err(WriteError::Conflict)), "{err:?}");
    let stored = subject.invitations.find(created.invitation.id).await.unwrap().unwrap();
    assert_eq!(stored.token_hash, resent.token.hash());
    let revoke = authority.revoke(&stored).unwrap();
    subject.invitations.update(&revoke, None, None).await.unwrap();
    let err = subject.invitations.update(&revoke, None, None).await;
    assert!(matches!(err, Err(WriteError::Conflict)), "{err:?}");
    let stored = subject.invitations.find(created.invitation.id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.version), (InvitationStatus::Revoked, created.invitation.version + 2));
}

/// `Remains` holds after the write: an organization keeps an active
/// permanent admin; a time-bound admin does not count.
pub async fn the_last_permanent_admin_remains(subject: &Subject) {
    let w = &World::new(subject);
    let orgs = &subject.organizations;
    let (ada, bob, cy) = (w.user("ada").await, w.user("bob").await, w.user("cy").await);
    let org = w.organization(&ada, "Admins").await;
    let admin = w.membership(org, &ada).await.unwrap();
    let now = w.now();
    let remains = vec![Guard::Remains { organization_id: org, role: OrgRole::Admin }];
    let demote = plan(MembershipWrite::Update(as_role(&admin, OrgRole::Member)), remains, ada.user_id, now);

    let err = orgs.apply(std::slice::from_ref(&demote)).await;
    assert!(matches!(err, Err(WriteError::LastAdmin)), "{err:?}");
    assert_eq!(w.membership(org, &ada).await, Some(admin.clone()), "unchanged");
    assert_eq!(orgs.history(org, ada.user_id).await.unwrap().len(), 1);

    let until = Some(now + Duration::days(1));
    let timed = Membership::start(org, bob.user_id, OrgRole::Admin, vec![], until, None, now);
    orgs.apply(&[plan(MembershipWrite::Insert(timed), vec![], ada.user_id, now)]).await.unwrap();
    let err = orgs.apply(std::slice::from_ref(&demote)).await;
    assert!(matches!(err, Err(WriteError::LastAdmin)), "a time-bound admin does not count: {err:?}");

    let permanent = Membership::start(org, cy.user_id, OrgRole::Admin, vec![], None, None, now);
    orgs.apply(&[plan(MembershipWrite::Insert(permanent), vec![], ada.user_id, now)]).await.unwrap();
    orgs.apply(&[demote]).await.unwrap();
    assert_eq!(w.membership(org, &ada).await.map(|m| m.role), Some(OrgRole::Member));

    // Through the use cases: the remaining permanent admin may not leave.
    let err = w.orgs.leave(&cy, org).await;
    assert!(matches!(err, Err(OrgError::LastAdmin)), "{err:?}");
}

/// Quotas refuse one past their limit, say when one more fits, and free up
/// as their window moves or pending invitations expire.
pub async fn quotas_refuse_past_their_limit(subject: &Subject) {
    let quotas = QuotaPolicy {
        organizations_per_user_per_day: 2,
        emails_per_organization_per_hour: 2,
        emails_per_recipient_per_day: 5,
        pending_invitations_per_organization: 2,
    };
    let w = &World::with_quotas(subject, quotas);
    let ada = w.user("ada").await;

    // Organizations per user and day.
    let first = w.organization(&ada, "First").await;
    w.clock.advance(Duration::hours(1));
    w.organization(&ada, "Second").await;
    let err = w.orgs.create(&ada, &Name::parse("Third").unwrap()).await;
    match err {
        Err(OrgError::Quota(q)) => {
            assert_eq!((q.quota, q.limit, q.retry_after), ("organizations_per_user_per_day", 2, Duration::hours(23)));
        }
        other => panic!("expected a quota refusal, got {other:?}"),
    }
    assert!(subject.organizations.find("Third").await.unwrap().is_none(), "nothing written");
    w.clock.advance(Duration::hours(23) + Duration::seconds(1));
    w.organization(&ada, "Third").await;

    // Pending invitations per organization, released as they expire.
    let short = |role| NewInvitation { validity: Validity::seconds(3600).unwrap(), ..link(first, role) };
    w.invitations.create(&ada, short(OrgRole::Guest)).await.unwrap();
    w.clock.advance(Duration::minutes(10));
    w.invitations.create(&ada, link(first, OrgRole::Guest)).await.unwrap();
    let err = w.invitations.create(&ada, link(first, OrgRole::Member)).await;
    match err {
        Err(InvitationError::Org(OrgError::Quota(q))) => {
            assert_eq!((q.quota, q.retry_after), ("pending_invitations_per_organization", Duration::minutes(50)));
        }
        other => panic!("expected a quota refusal, got {other:?}"),
    }
    w.clock.advance(Duration::minutes(50));
    w.invitations.create(&ada, link(first, OrgRole::Member)).await.unwrap();

    // E-mails per organization and hour (the pending quota holds one more after a revoke).
    let page = PageRequest::default();
    for invitation in w.invitations.list(&ada, first, InvitationFilter::default(), &page).await.unwrap().items {
        if invitation.status == InvitationStatus::Pending {
            w.invitations.revoke(&ada, invitation.id).await.unwrap();
        }
    }
    let mailed = |to: &str| NewInvitation { email: Some(email(to)), ..link(first, OrgRole::Guest) };
    let to_a = w.invitations.create(&ada, mailed("a@y.io")).await.unwrap();
    w.invitations.create(&ada, mailed("b@y.io")).await.unwrap();
    // A revoked invitation's e-mail still counts: it was queued.
    w.invitations.revoke(&ada, to_a.invitation.id).await.unwrap();
    let err = w.invitations.create(&ada, mailed("c@y.io")).await;
    assert!(
        matches!(&err, Err(InvitationError::Org(OrgError::Quota(q))) if q.quota == "emails_per_organization_per_hour"),
        "{err:?}"
    );
    let to_c = InvitationFilter { email_prefix: Some("c@".into()), ..InvitationFilter::default() };
    assert!(w.invitations.list(&ada, first, to_c, &page).await.unwrap().items.is_empty(), "nothing written");
}

/// `due_expiries` lists the stored-active memberships whose expiry is not
/// after `now`, soonest first, at most `limit`; the sweeper ends each once.
pub async fn due_expiries_are_lapsed_and_soonest_first(subject: &Subject) {
    let w = &World::new(subject);
    let orgs = &subject.organizations;
    let ada = w.user("ada").await;
    let org = w.organization(&ada, "Expiring").await;
    let now = w.now();
    let mut ends = Vec::new();
    for (name, hours) in [("bob", 3), ("cy", 1), ("dee", 2), ("eve", 10)] {
        let user = w.user(name).await;
        let end = now + Duration::hours(hours);
        let m = Membership::start(org, user.user_id, OrgRole::Member, vec![], Some(end), None, now);
        orgs.apply(&[plan(MembershipWrite::Insert(m.clone()), vec![], ada.user_id, now)]).await.unwrap();
        ends.push(m);
    }
    assert!(orgs.due_expiries(now, 10).await.unwrap().is_empty(), "none yet");
    let at = now + Duration::hours(3);
    let due = orgs.due_expiries(at, 10).await.unwrap();
    assert_eq!(due.iter().map(|m| m.id).collect::<Vec<_>>(), [ends[1].id, ends[2].id, ends[0].id]);
    assert_eq!(due[0], ends[1], "read back as written");
    let due = orgs.due_expiries(at, 2).await.unwrap();
    assert_eq!(due.iter().map(|m| m.id).collect::<Vec<_>>(), [ends[1].id, ends[2].id]);

    w.clock.set(at);
    assert_eq!(w.orgs.sweep(100).await.unwrap(), 3);
    assert!(orgs.due_expiries(at, 10).await.unwrap().is_empty());
    assert_eq!(w.orgs.sweep(100).await.unwrap(), 0);
    let active = MemberFilter { status: Some(MembershipStatus::Active), ..MemberFilter::default() };
    let query = MemberQuery { organization_id: org, filter: active, within: None, at };
    let members = orgs.members(&query, &PageRequest::default()).await.unwrap();
    assert_eq!(members.items.len(), 2, "ada and eve");
}

/// A due mail is claimed once: a second claim of the same read gets
/// `None`, the claimed mail is leased (not due) until its lease ends, and
/// a sent mail is never due again.
pub async fn an_outbox_mail_is_claimed_once(subject: &Subject) {
    let w = &World::new(subject);
    let outbox = &subject.invitations;
    let ada = w.user("ada").await;
    let org = w.organization(&ada, "Mailing").await;
    let mut to_bob = link(org, OrgRole::Member);
    to_bob.email = Some(email("bob@x.io"));
    let created = w.invitations.create(&ada, to_bob).await.unwrap();
    let now = w.now();

    let due = outbox.due_mails(now, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    let mail = &due[0];
    assert_eq!((mail.invitation_id, mail.mail.to.as_str(), mail.attempts), (created.invitation.id, "bob@x.io", 0));
    let claimed = outbox.claim_mail(mail, now + SEND_LEASE).await.unwrap();
    assert_eq!(claimed.flatten().map(|i| i.id), Some(created.invitation.id));
    assert_eq!(outbox.claim_mail(mail, now + SEND_LEASE).await.unwrap(), None, "claimed once");
    assert!(outbox.due_mails(now, 10).await.unwrap().is_empty(), "leased");

    // A crashed sender's lease lapses: the mail is due again, and claimable once more.
    let later = now + SEND_LEASE;
    let again = outbox.due_mails(later, 10).await.unwrap();
    assert_eq!(again.iter().map(|m| (m.id, m.next_attempt_at)).collect::<Vec<_>>(), [(mail.id, later)]);
    assert!(outbox.claim_mail(&again[0], later + SEND_LEASE).await.unwrap().is_some());
    outbox.mail_failed(mail.id, 1, Some(later + Duration::minutes(1)), "refused", later).await.unwrap();
    let retried = outbox.due_mails(later + Duration::minutes(1), 10).await.unwrap();
    assert_eq!(retried.iter().map(|m| m.attempts).collect::<Vec<_>>(), [1]);
    outbox.mail_sent(mail.id, later).await.unwrap();
    assert!(outbox.due_mails(later + Duration::days(1), 10).await.unwrap().is_empty(), "sent: never again");

    // Given up (no retry) and closed mails are never due either.
    let mut to_cy = link(org, OrgRole::Member);
    to_cy.email = Some(email("cy@x.io"));
    w.invitations.create(&ada, to_cy).await.unwrap();
    let mut to_dee = link(org, OrgRole::Member);
    to_dee.email = Some(email("dee@x.io"));
    w.invitations.create(&ada, to_dee).await.unwrap();
    let due = outbox.due_mails(now, 10).await.unwrap();
    assert_eq!(due.len(), 2);
    outbox.mail_failed(due[0].id, 12, None, "refused", now).await.unwrap();
    outbox.mail_closed(due[1].id, "cancelled", now).await.unwrap();
    assert!(outbox.due_mails(now + Duration::days(1), 10).await.unwrap().is_empty());
    assert_eq!(outbox.claim_mail(&due[1], now + SEND_LEASE).await.unwrap(), None, "a closed mail is not claimed");
}

/// Re-scoping a creator revokes their pending links they may no longer
/// grant: an organization-wide link of a moderator moved into one zone
/// (in SQL, `zone_id IN (…)` is NULL for a link without a zone: an adapter
/// must not let that keep the link).
pub async fn rezoning_revokes_the_links_the_creator_may_no_longer_grant(subject: &Subject) {
    let w = &World::new(subject);
    let (ada, bob) = (w.user("ada").await, w.user("bob").await);
    let org = w.organization(&ada, "Zoned").await;
    let north = w.orgs.create_zone(&ada, org, &Name::parse("North").unwrap()).await.unwrap();
    w.join(&ada, org, &bob, OrgRole::Moderator).await;
    let wide = w.invitations.create(&bob, link(org, OrgRole::Member)).await.unwrap();
    let mut inside = link(org, OrgRole::Member);
    inside.zone_id = Some(north.id);
    let inside = w.invitations.create(&bob, inside).await.unwrap();
    let rezone = MemberUpdate { zones: Some(vec![north.id]), ..MemberUpdate::default() };
    w.orgs.update_member(&ada, org, bob.user_id, &rezone).await.unwrap();
    let status = |id| async move { subject.invitations.find(id).await.unwrap().unwrap().status };
    assert_eq!(status(wide.invitation.id).await, InvitationStatus::Revoked, "outside bob's zone now");
    assert_eq!(status(inside.invitation.id).await, InvitationStatus::Pending, "still bob's to grant");
}

/// The e-mails of the members of `org` that `actor` finds with `filter`
/// searching `raw`, sorted.
async fn searched(w: &World<'_>, actor: &Actor, org: OrganizationId, filter: MemberFilter, raw: &str) -> Vec<String> {
    let filter = MemberFilter { search: Some(MemberSearch::parse(raw).expect("a valid search")), ..filter };
    let page = PageRequest::parse(Some(100), None).unwrap();
    let mut emails: Vec<String> =
        w.orgs.members(actor, org, filter, &page).await.unwrap().items.into_iter().map(|m| m.email).collect();
    emails.sort();
    emails
}

/// The members search: a prefix of the display name or of the e-mail, ASCII
/// letters in either case and every other character as written (`%` and `_`
/// are characters, not wildcards), within the other filters, paged like the
/// whole list.
pub async fn the_members_search_finds_a_prefix_of_a_name_or_an_email(subject: &Subject) {
    let w = &World::new(subject);
    let ada = w.user("ada").await;
    let org = w.orgs.create(&ada, &Name::parse("Search School").unwrap()).await.unwrap();
    let mut new = link(org.id, OrgRole::Member);
    new.max_uses = MaxUses::new(10).unwrap();
    let created = w.invitations.create(&ada, new).await.unwrap();
    let people = [
        ("Grace Hopper", "grace@navy.example"),
        ("Gregory Peck", "peck@film.example"),
        ("Émile Zola", "emile@paris.example"),
        ("100% Sure", "sure_thing@x.io"),
        ("Bob", "grace.b@x.io"),
    ];
    for (name, email) in people {
        let user_id = w.account(name, email, true).await;
        let actor = Actor { user_id, role: PlatformRole::User };
        w.invitations.accept_token(&actor, &created.token, &ClientInfo::default()).await.unwrap();
    }
    let all = MemberFilter::default;
    let cases: [(&str, &[&str]); 10] = [
        ("gr", &["grace.b@x.io", "grace@navy.example", "peck@film.example"]),
        ("  GRACE ", &["grace.b@x.io", "grace@navy.example"]),
        ("grace@", &["grace@navy.example"]),
        ("É", &["emile@paris.example"]),
        ("é", &[]),
        ("100%", &["sure_thing@x.io"]),
        ("10_", &[]),
        ("sure_", &["sure_thing@x.io"]),
        ("ada", &["ada@x.io"]),
        ("zz", &[]),
    ];
    for (raw, expected) in cases {
        assert_eq!(searched(w, &ada, org.id, all(), raw).await, expected, "searching {raw:?}");
    }
    let admins = MemberFilter { role: Some(OrgRole::Admin), ..all() };
    assert_eq!(searched(w, &ada, org.id, admins, "a").await, ["ada@x.io"], "with the role filter");

    // Pages of two over three found: each once, newest first.
    let filter = MemberFilter { search: Some(MemberSearch::parse("g").unwrap()), ..all() };
    let first =
        w.orgs.members(&ada, org.id, filter.clone(), &PageRequest::parse(Some(2), None).unwrap()).await.unwrap();
    let cursor = first.next_cursor.clone().expect("a second page");
    let second =
        w.orgs.members(&ada, org.id, filter, &PageRequest::parse(Some(2), Some(&cursor)).unwrap()).await.unwrap();
    assert_eq!((first.items.len(), second.items.len(), second.next_cursor), (2, 1, None));
    let mut paged: Vec<_> = first.items.iter().chain(&second.items).map(|m| m.email.clone()).collect();
    paged.sort();
    assert_eq!(paged, ["grace.b@x.io", "grace@navy.example", "peck@film.example"]);
}

/// A query of the whole log for `types` (every type when empty) in `organization` (or all).
fn feed(types: Vec<String>, organization: Option<uuid::Uuid>) -> FeedQuery {
    FeedQuery::parse(None, None, types, organization, crate::events::EVENT_TYPES).expect("known types")
}

/// Every event of this context in the log after `after`, of every
/// organization (a host's own events, such as its users', are left out).
async fn events_after(subject: &Subject, after: i64) -> Vec<Recorded> {
    let types = crate::events::EVENT_TYPES.iter().map(|t| (*t).to_owned()).collect();
    let query = FeedQuery { after, limit: FeedQuery::MAX_LIMIT, ..feed(types, None) };
    subject.events.read(&query).await.expect("reading the event log")
}

/// Each committed change appends its events, in the change's order and in
/// positions that only rise; a refused change appends none; the log reads
/// back by position, type and organization, one row beyond the limit.
pub async fn each_change_writes_its_events_and_a_refused_one_none(subject: &Subject) {
    let w = &World::new(subject);
    let (ada, bob) = (w.user("ada").await, w.user("bob").await);
    let org = w.organization(&ada, "Acme").await;
    w.join(&ada, org, &bob, OrgRole::Member).await;
    let all = events_after(subject, 0).await;
    let kinds: Vec<&str> = all.iter().map(|r| r.event.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "organization.created",
            "membership.created",
            "invitation.created",
            "membership.created",
            "invitation.accepted"
        ]
    );
    assert!(all.windows(2).all(|p| p[0].position < p[1].position), "positions rise");
    assert!(all.iter().all(|r| r.event.organization_id == Some(org.as_uuid())));
    assert_eq!(all[3].event.actor_id, Some(bob.user_id));
    let last = all.last().unwrap().position;

    // Refused: a stale version writes nothing, so no event either.
    let admin = w.membership(org, &ada).await.unwrap();
    let stale = Guard::Unchanged { membership_id: admin.id, version: admin.version + 1 };
    let cy = w.user("cy").await;
    let join = Membership::start(org, cy.user_id, OrgRole::Member, vec![], None, None, w.now());
    let refused = plan(MembershipWrite::Insert(join), vec![stale], ada.user_id, w.now());
    assert!(matches!(subject.organizations.apply(&[refused]).await, Err(WriteError::Conflict)));
    assert!(events_after(subject, last).await.is_empty(), "a refused change wrote an event");

    // A refused acceptance is logged with its event, and changes nothing else.
    let mine = w.invitations.create(&ada, link(org, OrgRole::Guest)).await.unwrap();
    let err = w.invitations.accept_token(&ada, &mine.token, &ClientInfo::default()).await;
    assert!(matches!(err, Err(AcceptError::Refused(Refusal::AlreadyMember))), "{err:?}");
    let new = events_after(subject, last).await;
    let kinds: Vec<&str> = new.iter().map(|r| r.event.kind.as_str()).collect();
    assert_eq!(kinds, ["invitation.created", "invitation.acceptance_failed"]);
    assert_eq!(new[1].event.data["reason"], "already_member");

    // A zone and a rename: one event each, naming what changed.
    let before = events_after(subject, 0).await.last().unwrap().position;
    w.orgs.create_zone(&ada, org, &Name::parse("North").unwrap()).await.unwrap();
    w.orgs.rename(&ada, org, &Name::parse("Acme Ltd").unwrap()).await.unwrap();
    let new = events_after(subject, before).await;
    let kinds: Vec<&str> = new.iter().map(|r| r.event.kind.as_str()).collect();
    assert_eq!(kinds, ["zone.created", "organization.updated"]);
    assert_eq!(new[1].event.data["organization"]["name"], "Acme Ltd");
    assert_eq!(new[1].event.data["changed"], serde_json::json!(["name"]));

    // Demoted, a moderator's links go with the right to grant them, one
    // event each after the role change; removed with a block, then unblocked.
    let dee = w.user("dee").await;
    w.join(&ada, org, &dee, OrgRole::Moderator).await;
    let first = w.invitations.create(&dee, link(org, OrgRole::Member)).await.unwrap();
    let second = w.invitations.create(&dee, link(org, OrgRole::Guest)).await.unwrap();
    let before = events_after(subject, 0).await.last().unwrap().position;
    let demote = MemberUpdate { role: Some(OrgRole::Member), ..MemberUpdate::default() };
    w.orgs.update_member(&ada, org, dee.user_id, &demote).await.unwrap();
    w.orgs.remove(&ada, org, dee.user_id, true).await.unwrap();
    w.orgs.unblock(&ada, org, dee.user_id).await.unwrap();
    let new = events_after(subject, before).await;
    let kinds: Vec<&str> = new.iter().map(|r| r.event.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "membership.role_changed",
            "invitation.revoked",
            "invitation.revoked",
            "membership.ended",
            "membership.unblocked"
        ]
    );
    let revoked: Vec<String> = new[1..3].iter().map(|r| r.event.subject.id.clone()).collect();
    assert_eq!(revoked, [first.invitation.id.to_string(), second.invitation.id.to_string()]);
    assert!(new[1..3].iter().all(|r| r.event.data["reason"] == "creator_may_no_longer_grant"
        && r.event.data["invitation"]["status"] == "revoked"
        && r.event.actor_id == Some(ada.user_id)));
    assert_eq!(new[4].event.subject, shared_kernel::Subject::new("user", dee.user_id));
    assert_eq!(new[4].event.actor_id, Some(ada.user_id));

    // An expiry passing is announced once, at the instant it passed; a
    // resend's new expiry is announced anew; a revoked invitation never.
    let hour = NewInvitation { validity: Validity::seconds(3600).unwrap(), ..link(org, OrgRole::Member) };
    let lapsing = w.invitations.create(&ada, hour.clone()).await.unwrap();
    let revoked = w.invitations.create(&ada, hour).await.unwrap();
    w.invitations.revoke(&ada, revoked.invitation.id).await.unwrap();
    let before = events_after(subject, 0).await.last().unwrap().position;
    assert_eq!(w.invitations.announce_expiries(100).await.unwrap(), 0, "not yet");
    w.clock.advance(Duration::hours(2));
    assert_eq!(w.invitations.announce_expiries(100).await.unwrap(), 1);
    assert_eq!(w.invitations.announce_expiries(100).await.unwrap(), 0, "announced once");
    w.invitations.resend(&ada, lapsing.invitation.id).await.unwrap();
    // Renewed by its original validity, an hour.
    w.clock.advance(Duration::hours(2));
    assert_eq!(w.invitations.announce_expiries(100).await.unwrap(), 1, "the new expiry");
    let new = events_after(subject, before).await;
    let kinds: Vec<&str> = new.iter().map(|r| r.event.kind.as_str()).collect();
    assert_eq!(kinds, ["invitation.expired", "invitation.resent", "invitation.expired"]);
    assert_eq!(new[0].event.occurred_at, lapsing.invitation.expires_at);
    assert_eq!(new[0].event.actor_id, None);
    assert_eq!(new[0].event.data["invitation"]["status"], "expired");
    assert!(new[2].event.occurred_at > lapsing.invitation.expires_at);

    // Reading: by type, by organization, and one beyond the limit.
    let elsewhere = w.organization(&bob, "Elsewhere").await;
    let by_type = FeedQuery { limit: 10, ..feed(vec!["organization.created".into()], None) };
    let created = subject.events.read(&by_type).await.unwrap();
    assert_eq!(created.len(), 2);
    let theirs = FeedQuery { limit: 1, ..feed(vec![], Some(elsewhere.as_uuid())) };
    let page = subject.events.read(&theirs).await.unwrap();
    assert_eq!(page.len(), 2, "the limit plus one, to say there is more");
    assert!(page.iter().all(|r| r.event.organization_id == Some(elsewhere.as_uuid())));
}
