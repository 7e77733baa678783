//! The organization and invitation repository story, on SQLite and on
//! PostgreSQL: the same calls, the same answers.

use adapter_sql::{Database, PoolSettings, SqlInvitationRepository, SqlOrganizationRepository, SqlUserRepository};
use invitations::{
    Acceptance, ClientInfo, EndReason, HistoryCause, ImportLine, ImportOutcome, Invitation, InvitationId,
    InvitationKind, InvitationMail, InvitationRepository, InvitationState, InvitationStatus, InvitationToken,
    MemberFilter, Membership, MembershipChange, MembershipStatus, Name, Organization, OrganizationId,
    OrganizationRepository, OutboxId, OutboxMail, Outcome, WriteError, Zone, ZoneId,
};
use shared_kernel::{EmailAddress, OrgRole, PageRequest, PlatformRole, UserId};
use test_support::postgres::{PgCluster, TestDatabase};
use time::{Duration, OffsetDateTime};
use user_dto::{DisplayName, Identity, NewUser, TryWindow, UserRepository, Username};

/// The story runs at the real time of day: the User DTO shows ended
/// memberships for 30 days counted by the database's clock.
fn now() -> OffsetDateTime {
    static NOW: std::sync::OnceLock<OffsetDateTime> = std::sync::OnceLock::new();
    *NOW.get_or_init(|| shared_kernel::Clock::now(&shared_kernel::SystemClock))
}

async fn user(users: &dyn UserRepository, name: &str) -> UserId {
    let email = EmailAddress::parse(&format!("{name}@x.io")).unwrap();
    let new = NewUser {
        identity: Identity::new(&format!("idp|{name}"), Some(email.clone()), true, None, None, None).unwrap(),
        email,
        display_name: DisplayName::parse(name).unwrap(),
        username: Username::parse(name).unwrap(),
        platform_role: PlatformRole::User,
        now: now(),
    };
    users.create(&new).await.unwrap().id
}

fn invitation(org: OrganizationId, by: UserId, max_uses: u32) -> (Invitation, InvitationToken) {
    let token = InvitationToken::from_bytes(&rand_bytes());
    let inv = Invitation {
        id: InvitationId::new(),
        organization_id: org,
        zone_id: None,
        role: OrgRole::Member,
        email: None,
        user_id: None,
        kind: InvitationKind::Internal,
        max_uses,
        use_count: 0,
        expires_at: now() + Duration::days(7),
        valid_for: Duration::days(7),
        membership_duration: Some(Duration::hours(1)),
        status: InvitationStatus::Pending,
        token_hash: token.hash(),
        created_by: by,
        created_at: now(),
        updated_at: now(),
        version: 1,
    };
    (inv, token)
}

fn rand_bytes() -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(uuid::Uuid::now_v7().as_bytes());
    out[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    out
}

fn accepted(inv: &Invitation, user: UserId) -> Acceptance {
    Acceptance::new(inv.id, Some(user), Outcome::Accepted, None, &ClientInfo::default(), now())
}

async fn story(db: Database) {
    let users = SqlUserRepository::new(db.clone());
    let orgs = SqlOrganizationRepository::new(db.clone());
    let invs = SqlInvitationRepository::new(db.clone());
    let ada = user(&users, "ada").await;
    let bob = user(&users, "bob").await;
    let cy = user(&users, "cy").await;

    // Creating an organization makes its creator admin and switches to it.
    let name = Name::parse("Acme School").unwrap();
    let id = OrganizationId::new();
    let org = Organization {
        id,
        name: name.as_str().into(),
        slug: name.slug(id),
        logo_url: None,
        created_by: ada,
        created_at: now(),
        updated_at: now(),
    };
    let admin = Membership::start(id, ada, OrgRole::Admin, vec![], None, None, now());
    orgs.create(&org, &admin).await.unwrap();
    assert_eq!(orgs.get(id).await.unwrap(), Some(org.clone()));
    assert_eq!(orgs.active_membership(id, ada).await.unwrap(), Some(admin.clone()));
    let window = TryWindow { since: now(), limit: 5 };
    let view = users.view(ada, window).await.unwrap().unwrap();
    assert_eq!(view.user.current_organization_id, Some(id.as_uuid()));
    assert_eq!(view.memberships.len(), 1);
    assert_eq!(view.memberships[0].organization.name, "Acme School");
    assert_eq!(view.memberships[0].role, OrgRole::Admin);

    // Zones are unique by name within the organization.
    let zone = Zone { id: ZoneId::new(), organization_id: id, name: "North".into(), created_at: now() };
    orgs.create_zone(&zone).await.unwrap();
    let twin = Zone { id: ZoneId::new(), ..zone.clone() };
    assert!(matches!(orgs.create_zone(&twin).await, Err(WriteError::NameTaken)));
    assert_eq!(orgs.zones(id).await.unwrap(), vec![zone.clone()]);

    // An invitation round-trips and is found by its token's hash only.
    let (inv, token) = invitation(id, ada, 2);
    invs.insert(&inv, None).await.unwrap();
    assert_eq!(invs.find_by_hash(&token.hash()).await.unwrap(), Some(inv.clone()));
    assert_eq!(invs.find(inv.id).await.unwrap(), Some(inv.clone()));
    assert!(invs.find_by_hash(&InvitationToken::from_presented("nope").hash()).await.unwrap().is_none());

    // Accepting takes a use, creates the membership and logs, in one transaction.
    let invitee = orgs.invitee(bob).await.unwrap().unwrap();
    let change = inv.decide_accept(&invitee, None, now()).unwrap();
    invs.accept(&inv, &change, &accepted(&inv, bob), now()).await.unwrap();
    let bobs = orgs.active_membership(id, bob).await.unwrap().unwrap();
    assert_eq!(bobs.expires_at, Some(now() + Duration::hours(1)));
    // Another taker's use does not stale a snapshot (takers queue on the row,
    // the guard re-checks the count), but a resend's new token does.
    let taken = invs.find(inv.id).await.unwrap().unwrap();
    assert_eq!((taken.use_count, taken.status, taken.version), (1, InvitationStatus::Pending, 2));
    let resent = Invitation {
        token_hash: InvitationToken::from_bytes(&rand_bytes()).hash(),
        version: taken.version + 1,
        ..taken.clone()
    };
    invs.update(&resent, None, None).await.unwrap();
    let cys = orgs.invitee(cy).await.unwrap().unwrap();
    let stale = inv.decide_accept(&cys, None, now()).unwrap();
    assert!(matches!(invs.accept(&inv, &stale, &accepted(&inv, cy), now()).await, Err(WriteError::Conflict)));
    assert!(orgs.active_membership(id, cy).await.unwrap().is_none());
    let fresh = invs.find(inv.id).await.unwrap().unwrap();
    assert_eq!((fresh.use_count, fresh.status, fresh.version), (1, InvitationStatus::Pending, 3));
    let change = fresh.decide_accept(&cys, None, now()).unwrap();
    invs.accept(&fresh, &change, &accepted(&fresh, cy), now()).await.unwrap();
    let used = invs.find(inv.id).await.unwrap().unwrap();
    assert_eq!((used.use_count, used.status), (2, InvitationStatus::Accepted));
    // A failed attempt is logged and consumes nothing.
    let failed = Acceptance::new(inv.id, Some(bob), Outcome::Failed, Some("used_up"), &ClientInfo::default(), now());
    invs.log(&failed).await.unwrap();
    let log = invs.acceptances(inv.id).await.unwrap();
    assert_eq!(log.len(), 3);
    assert!(log.iter().any(|a| a.reason.as_deref() == Some("used_up")));
    assert_eq!(invs.find(inv.id).await.unwrap().unwrap().use_count, 2);
    // A second membership for the same person in the same organization is refused.
    let (other, _) = invitation(id, ada, 1);
    invs.insert(&other, None).await.unwrap();
    let duplicate = MembershipChange::Create(Membership::start(id, bob, OrgRole::Guest, vec![], None, None, now()));
    assert!(matches!(invs.accept(&other, &duplicate, &accepted(&other, bob), now()).await, Err(WriteError::Conflict)));
    assert_eq!(invs.find(other.id).await.unwrap().unwrap().use_count, 0, "rolled back");

    // Lists by state; `mine` by user id or e-mail.
    assert_eq!(invs.list(id, Some(InvitationState::Accepted), now()).await.unwrap().len(), 1);
    assert_eq!(invs.list(id, Some(InvitationState::Pending), now()).await.unwrap().len(), 1);
    assert_eq!(invs.list(id, Some(InvitationState::Expired), now() + Duration::days(8)).await.unwrap().len(), 1);
    let (mut bound, _) = invitation(id, bob, 1);
    bound.email = Some(EmailAddress::parse("dee@x.io").unwrap());
    let queued = OutboxMail {
        id: OutboxId::new(),
        invitation_id: bound.id,
        mail: InvitationMail {
            to: EmailAddress::parse("dee@x.io").unwrap(),
            organization: "Acme School".into(),
            invited_by: "bob".into(),
            role: OrgRole::Member,
            link: format!("https://usher.test/dashboard/invite?invitation={}", bound.id),
            expires_at: bound.expires_at,
        },
        attempts: 0,
        next_attempt_at: now(),
    };
    invs.insert(&bound, Some(queued.clone())).await.unwrap();
    // The outbox: due, claimed once, retried, then sent.
    assert_eq!(invs.due_mails(now(), 10).await.unwrap(), vec![queued.clone()]);
    assert!(invs.claim_mail(&queued, now() + Duration::minutes(5)).await.unwrap());
    assert!(!invs.claim_mail(&queued, now() + Duration::minutes(5)).await.unwrap(), "claimed once");
    assert!(invs.due_mails(now(), 10).await.unwrap().is_empty(), "leased");
    invs.mail_failed(queued.id, 1, Some(now() + Duration::seconds(30)), "refused", now()).await.unwrap();
    let retry = invs.due_mails(now() + Duration::seconds(30), 10).await.unwrap();
    assert_eq!((retry.len(), retry[0].attempts), (1, 1));
    invs.mail_sent(queued.id, now()).await.unwrap();
    assert!(invs.due_mails(now() + Duration::days(1), 10).await.unwrap().is_empty());
    let dee = EmailAddress::parse("dee@x.io").unwrap();
    assert_eq!(invs.mine(cy, Some(dee), now()).await.unwrap().len(), 1);
    assert!(invs.mine(cy, None, now()).await.unwrap().is_empty());

    // Role changes write history; the last admin cannot be demoted.
    let promoted = bobs.with_role(OrgRole::Moderator);
    orgs.update_membership(&promoted, HistoryCause::RoleChange, Some(ada), now()).await.unwrap();
    assert!(matches!(
        orgs.update_membership(&promoted, HistoryCause::RoleChange, Some(ada), now()).await,
        Err(WriteError::Conflict)
    ));
    let demoted = admin.with_role(OrgRole::Member);
    assert!(matches!(
        orgs.update_membership(&demoted, HistoryCause::RoleChange, Some(ada), now()).await,
        Err(WriteError::LastAdmin)
    ));
    assert_eq!(orgs.active_membership(id, ada).await.unwrap().unwrap().role, OrgRole::Admin, "rolled back");
    let history = orgs.history(id, bob).await.unwrap();
    assert_eq!(
        history.iter().map(|h| h.cause).collect::<Vec<_>>(),
        [HistoryCause::Invitation, HistoryCause::RoleChange]
    );
    assert_eq!(history[0].valid_to, Some(now()));
    assert_eq!(history[1].valid_to, None);
    assert_eq!(history[1].changed_by, Some(ada));

    // Members list filters.
    let filter = MemberFilter { role: Some(OrgRole::Moderator), ..MemberFilter::default() };
    let all = PageRequest::default();
    let listed = orgs.members(id, &filter, &all, now()).await.unwrap().items;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].email, "bob@x.io");
    let active = MemberFilter { status: Some(MembershipStatus::Active), ..MemberFilter::default() };
    let everyone = orgs.members(id, &active, &all, now()).await.unwrap();
    assert_eq!((everyone.items.len(), everyone.next_cursor), (3, None));
    let lapsed = orgs.members(id, &active, &all, now() + Duration::hours(2)).await.unwrap();
    assert_eq!(lapsed.items.len(), 1, "time-bound ones lapse");
    // Pages of two: the same three, newest first, in two pages.
    let first = orgs.members(id, &active, &PageRequest::parse(Some(2), None).unwrap(), now()).await.unwrap();
    let cursor = first.next_cursor.clone().expect("a second page");
    let second = orgs.members(id, &active, &PageRequest::parse(Some(2), Some(&cursor)).unwrap(), now()).await.unwrap();
    assert_eq!((first.items.len(), second.items.len(), second.next_cursor), (2, 1, None));
    let paged: Vec<_> = first.items.iter().chain(&second.items).map(|m| m.membership.id).collect();
    let whole: Vec<_> = everyone.items.iter().map(|m| m.membership.id).collect();
    assert_eq!(paged, whole);

    // Switching needs a granting membership; ending one revokes the member's
    // pending invitations and clears their current organization.
    assert!(orgs.switch_current(bob, id, now()).await.unwrap());
    assert!(!orgs.switch_current(bob, id, now() + Duration::hours(2)).await.unwrap());
    let current = orgs.active_membership(id, bob).await.unwrap().unwrap();
    orgs.update_membership(&current.ended(EndReason::Left, now()), HistoryCause::Left, Some(bob), now()).await.unwrap();
    assert_eq!(invs.find(bound.id).await.unwrap().unwrap().status, InvitationStatus::Revoked);
    let view = users.view(bob, window).await.unwrap().unwrap();
    assert_eq!(view.user.current_organization_id, None);
    assert_eq!(view.memberships.len(), 1, "ended memberships show for 30 days");
    assert_eq!(view.memberships[0].status, user_dto::MembershipStatus::Inactive);

    // The sidebar lists granting memberships, admins first.
    let sidebar = orgs.sidebar(cy, now()).await.unwrap();
    assert_eq!(sidebar.len(), 1);
    assert!(orgs.sidebar(cy, now() + Duration::hours(2)).await.unwrap().is_empty());

    // The sweeper ends expired memberships once.
    assert_eq!(orgs.expire_due(now(), 100).await.unwrap(), 0);
    assert_eq!(orgs.expire_due(now() + Duration::hours(2), 100).await.unwrap(), 1);
    assert_eq!(orgs.expire_due(now() + Duration::hours(2), 100).await.unwrap(), 0);
    let history = orgs.history(id, cy).await.unwrap();
    assert_eq!(history.last().unwrap().cause, HistoryCause::Expired);
    assert_eq!(history.last().unwrap().status, MembershipStatus::Inactive);

    // Renaming.
    let renamed = orgs.rename(id, "Acme Academy", now() + Duration::hours(3)).await.unwrap().unwrap();
    assert_eq!(renamed.name, "Acme Academy");
    assert_eq!(orgs.display_name(bob).await.unwrap().as_deref(), Some("bob"));
    assert_eq!(orgs.user_by_email(&EmailAddress::parse("cy@x.io").unwrap()).await.unwrap(), Some(cy));
}

#[tokio::test]
async fn the_invitation_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let db = Database::connect(&url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    story(db).await;
}

#[tokio::test]
async fn the_invitation_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    story(db.clone()).await;
    db.close().await;
}

async fn import_story(db: Database) {
    let users = SqlUserRepository::new(db.clone());
    let orgs = SqlOrganizationRepository::new(db.clone());
    let invs = SqlInvitationRepository::new(db.clone());
    let ada = user(&users, "ada").await;
    let bob = user(&users, "bob").await;
    let name = Name::parse("Fio School").unwrap();
    let id = OrganizationId::new();
    let org = Organization {
        id,
        name: name.as_str().into(),
        slug: name.slug(id),
        logo_url: None,
        created_by: ada,
        created_at: now(),
        updated_at: now(),
    };
    orgs.create(&org, &Membership::start(id, ada, OrgRole::Admin, vec![], None, None, now())).await.unwrap();
    let joined = now() - Duration::days(400);
    let line = |org: &str, mail: &str| ImportLine {
        organization: org.to_owned(),
        email: EmailAddress::parse(mail).unwrap(),
        role: OrgRole::Moderator,
        joined_at: joined,
    };
    let hash = |n: u8| InvitationToken::from_bytes(&[n; 32]).hash();
    let lines = [line("Fio School", "bob@x.io"), line(&org.slug, "new@x.io"), line(&id.to_string(), "ada@x.io")];
    let mut outcomes = Vec::new();
    for (n, l) in lines.iter().enumerate() {
        outcomes.push(orgs.import_line(l, &hash(n as u8), now()).await.unwrap());
    }
    assert_eq!(outcomes, [ImportOutcome::Joined, ImportOutcome::Invited, ImportOutcome::Unchanged]);
    assert_eq!(
        orgs.import_line(&line("Nowhere", "bob@x.io"), &hash(9), now()).await.unwrap(),
        ImportOutcome::UnknownOrganization
    );
    // Re-running changes nothing.
    for (n, l) in lines.iter().enumerate() {
        assert_eq!(orgs.import_line(l, &hash(10 + n as u8), now()).await.unwrap(), ImportOutcome::Unchanged);
    }
    let bobs = orgs.active_membership(id, bob).await.unwrap().unwrap();
    assert_eq!((bobs.role, bobs.joined_at), (OrgRole::Moderator, joined));
    assert_eq!(orgs.history(id, bob).await.unwrap()[0].cause, HistoryCause::Import);
    assert_eq!(orgs.active_membership(id, ada).await.unwrap().unwrap().role, OrgRole::Admin, "kept");
    let pending = invs.list(id, Some(InvitationState::Pending), now()).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].email.as_ref().map(EmailAddress::as_str), Some("new@x.io"));

    // The unknown e-mail signs in: the next run applies the import, once.
    assert_eq!(orgs.apply_imports(now(), 10).await.unwrap(), 0);
    let newcomer = user(&users, "new").await;
    assert_eq!(orgs.apply_imports(now(), 10).await.unwrap(), 1);
    assert_eq!(orgs.apply_imports(now(), 10).await.unwrap(), 0);
    let theirs = orgs.active_membership(id, newcomer).await.unwrap().unwrap();
    assert_eq!((theirs.role, theirs.joined_at), (OrgRole::Moderator, joined));
    let accepted = invs.find(pending[0].id).await.unwrap().unwrap();
    assert_eq!((accepted.status, accepted.use_count), (InvitationStatus::Accepted, 1));
    assert_eq!(invs.acceptances(accepted.id).await.unwrap()[0].user_id, Some(newcomer));
}

#[tokio::test]
async fn the_import_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let db = Database::connect(&url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    import_story(db).await;
}

#[tokio::test]
async fn the_import_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    import_story(db.clone()).await;
    db.close().await;
}
