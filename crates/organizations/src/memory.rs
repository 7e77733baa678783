//! The in-memory adapter (feature `memory`): [`MemoryStore`] implements
//! [`OrganizationRepository`] and [`InvitationRepository`] over maps behind
//! one `std::sync::Mutex`, for embedding the crate without a database and
//! for tests.
//!
//! It carries out the model's plans with the SQL adapter's semantics: the
//! guards (`Unchanged`, `NotBlocked`, `Quota` before the write, `Remains`
//! after it), the compare-and-set on `version`, one active membership per
//! (organization, user), the history rows, the effects, the quotas, the
//! outbox's leased claims, the imports and each change's events (it is
//! an [`EventLog`] too). Like the SQL adapter it decides
//! nothing: every value compared or written comes from the plan.
//!
//! Each port call is atomic: it holds the lock for the whole call and works
//! on a copy of the state, which replaces the stored one only when the call
//! succeeds, so a failed guard or a lost compare-and-set leaves nothing
//! written. The copy makes a write cost O(size of the store), which suits
//! what this adapter is for (one process, modest data, tests); a
//! `std::sync::Mutex` is right because no call awaits while holding it.
//!
//! Users live in another bounded context: the host registers the accounts
//! the ports read ([`MemoryStore::add_user`]) and reads back the current
//! organization the ports maintain ([`MemoryStore::current_organization`]).
//! Logo upload tickets live in an
//! [`image_upload::memory::MemoryUploadTicketRepository`] shared through an
//! `Arc` with the upload flow: setting a logo marks its still-issued ticket
//! used, as the SQL adapter does in the same transaction.

use crate::error::WriteError;
use crate::model::events::{self, OrganizationChange};
use crate::model::{
    AcceptPlan, Acceptance, Account, Counter, DueImport, Effect, Expiry, Founding, Guard, HistoryNote, ImportLine,
    Invitation, InvitationDraft, InvitationId, InvitationQuery, InvitationState, InvitationStatus, InvitationUpdate,
    Invitee, Member, MemberQuery, Membership, MembershipHistory, MembershipId, MembershipPlan, MembershipStatus,
    MembershipWrite, Organization, OrganizationId, OutboxId, OutboxMail, Quota, SidebarApp, Standing, TokenHash,
    Unblock, Zone,
};
use crate::ports::{Block, InvitationRepository, OrganizationRepository};
use anyhow::anyhow;
use async_trait::async_trait;
use image_upload::memory::MemoryUploadTicketRepository;
use image_upload::{ObjectKey, TicketId};
use shared_kernel::{
    Cursor, EmailAddress, Event, EventBuffer, EventLog, FeedQuery, Page, PageRequest, Recorded, UserId,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use time::OffsetDateTime;
use uuid::Uuid;

/// An account as the organization ports read it.
#[derive(Clone, Debug)]
struct User {
    display_name: String,
    email: EmailAddress,
    email_verified: bool,
    current_organization: Option<OrganizationId>,
}

#[derive(Clone, Debug)]
struct StoredOrganization {
    organization: Organization,
    logo_key: Option<ObjectKey>,
}

#[derive(Clone, Debug)]
struct StoredBlock {
    organization_id: OrganizationId,
    user_id: UserId,
    blocked_by: UserId,
    blocked_at: OffsetDateTime,
}

#[derive(Clone, Debug)]
struct OutboxRow {
    mail: OutboxMail,
    organization_id: OrganizationId,
    created_at: OffsetDateTime,
    sent_at: Option<OffsetDateTime>,
    abandoned_at: Option<OffsetDateTime>,
    last_error: Option<String>,
}

impl OutboxRow {
    fn open(&self) -> bool {
        self.sent_at.is_none() && self.abandoned_at.is_none()
    }
}

#[derive(Clone, Debug)]
struct ImportRow {
    organization_id: OrganizationId,
    line: ImportLine,
    invitation_id: Option<InvitationId>,
    created_at: OffsetDateTime,
    applied_at: Option<OffsetDateTime>,
}

/// Every table. Vectors keep insertion order, which stands in for the SQL
/// adapter's serial ids where an ordering needs a tie-breaker.
#[derive(Clone, Debug, Default)]
struct State {
    users: Vec<(UserId, User)>,
    organizations: Vec<StoredOrganization>,
    zones: Vec<Zone>,
    memberships: HashMap<MembershipId, Membership>,
    history: Vec<MembershipHistory>,
    blocks: Vec<StoredBlock>,
    invitations: Vec<Invitation>,
    acceptances: Vec<Acceptance>,
    outbox: Vec<OutboxRow>,
    imports: Vec<ImportRow>,
    /// The event log, in commit order.
    events: EventBuffer,
    /// The expiry each invitation's `invitation.expired` announced.
    expiry_announced: HashMap<InvitationId, OffsetDateTime>,
}

/// Organizations, zones, memberships, invitations, their logs, the outbox
/// and imports in memory. Clones share the same store.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    tickets: Arc<MemoryUploadTicketRepository>,
}

impl MemoryStore {
    /// An empty store with a ticket repository of its own.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store whose logo tickets are `tickets` (the ones the upload
    /// flow issues).
    pub fn with_tickets(tickets: Arc<MemoryUploadTicketRepository>) -> Self {
        Self { state: Arc::default(), tickets }
    }

    /// The ticket repository the logo uses.
    pub fn tickets(&self) -> &Arc<MemoryUploadTicketRepository> {
        &self.tickets
    }

    /// Registers an account (users belong to the host): its id, the next
    /// after the largest so far, starting at 1.
    pub fn add_user(&self, display_name: &str, email: &EmailAddress, email_verified: bool) -> UserId {
        let mut state = self.lock();
        let id = UserId::new(state.users.iter().map(|(id, _)| id.get()).max().unwrap_or(0) + 1);
        let user = User {
            display_name: display_name.to_owned(),
            email: email.clone(),
            email_verified,
            current_organization: None,
        };
        state.users.push((id, user));
        id
    }

    /// Sets whether an account's e-mail is verified (a later sign-in);
    /// `false` if there is no such account.
    pub fn set_email_verified(&self, user: UserId, verified: bool) -> bool {
        let mut state = self.lock();
        state.user_mut(user).map(|u| u.email_verified = verified).is_some()
    }

    /// The account's current organization, as founding, switching and
    /// leaving maintain it; `None` for an unknown account.
    pub fn current_organization(&self, user: UserId) -> Option<OrganizationId> {
        self.lock().user(user).and_then(|u| u.current_organization)
    }

    /// The lock. A panic cannot leave a half-done write behind (writes
    /// replace the state only once complete), so a poisoned lock is safe to take.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on a copy of the state, kept only when it succeeds.
    fn write<T, E>(&self, f: impl FnOnce(&mut State) -> Result<T, E>) -> Result<T, E> {
        let mut state = self.lock();
        let mut next = state.clone();
        let out = f(&mut next)?;
        *state = next;
        Ok(out)
    }
}

impl State {
    fn user(&self, id: UserId) -> Option<&User> {
        self.users.iter().find(|(u, _)| *u == id).map(|(_, u)| u)
    }

    fn user_mut(&mut self, id: UserId) -> Option<&mut User> {
        self.users.iter_mut().find(|(u, _)| *u == id).map(|(_, u)| u)
    }

    fn organization(&self, id: OrganizationId) -> Option<&StoredOrganization> {
        self.organizations.iter().find(|o| o.organization.id == id)
    }

    fn organization_mut(&mut self, id: OrganizationId) -> Option<&mut StoredOrganization> {
        self.organizations.iter_mut().find(|o| o.organization.id == id)
    }

    fn invitation(&self, id: InvitationId) -> Option<&Invitation> {
        self.invitations.iter().find(|i| i.id == id)
    }

    fn invitation_mut(&mut self, id: InvitationId) -> Option<&mut Invitation> {
        self.invitations.iter_mut().find(|i| i.id == id)
    }

    fn active_membership(&self, org: OrganizationId, user: UserId) -> Option<&Membership> {
        self.memberships
            .values()
            .find(|m| m.organization_id == org && m.user_id == user && m.status == MembershipStatus::Active)
    }

    fn is_blocked(&self, org: OrganizationId, user: UserId) -> bool {
        self.blocks.iter().any(|b| b.organization_id == org && b.user_id == user)
    }

    fn accounts_with_email(&self, email: &EmailAddress) -> Vec<Account> {
        let mut accounts: Vec<_> = self
            .users
            .iter()
            .filter(|(_, u)| u.email == *email)
            .map(|(id, u)| Account { user_id: *id, email_verified: u.email_verified })
            .collect();
        accounts.sort_by_key(|a| a.user_id);
        accounts
    }

    /// Checks one guard other than `Remains` (checked after the write).
    fn check(&self, guard: &Guard) -> Result<(), WriteError> {
        match guard {
            Guard::Remains { .. } => Ok(()),
            Guard::Unchanged { membership_id, version } => match self.memberships.get(membership_id) {
                Some(m) if m.version == *version && m.status == MembershipStatus::Active => Ok(()),
                _ => Err(WriteError::Conflict),
            },
            Guard::NotBlocked { organization_id, user_id } => {
                if self.is_blocked(*organization_id, *user_id) {
                    Err(WriteError::Blocked)
                } else {
                    Ok(())
                }
            }
            Guard::Quota(quota) => self.check_quota(quota),
        }
    }

    fn check_all(&self, guards: &[Guard]) -> Result<(), WriteError> {
        guards.iter().try_for_each(|g| self.check(g))
    }

    /// Counts a quota's rows: the counted instants, the oldest first.
    fn check_quota(&self, quota: &Quota) -> Result<(), WriteError> {
        let since = quota.since();
        let recent = |t: OffsetDateTime| since.is_some_and(|s| t > s);
        let counted: Vec<OffsetDateTime> = match &quota.counter {
            Counter::OrganizationsCreatedBy(user) => self
                .organizations
                .iter()
                .map(|o| &o.organization)
                .filter(|o| o.created_by == *user && recent(o.created_at))
                .map(|o| o.created_at)
                .collect(),
            Counter::MailsOfOrganization(org) => self
                .outbox
                .iter()
                .filter(|r| r.organization_id == *org && recent(r.created_at))
                .map(|r| r.created_at)
                .collect(),
            Counter::MailsTo(email) => self
                .outbox
                .iter()
                .filter(|r| r.mail.mail.to == *email && recent(r.created_at))
                .map(|r| r.created_at)
                .collect(),
            Counter::PendingInvitations(org) => self
                .invitations
                .iter()
                .filter(|i| {
                    i.organization_id == *org && i.status == InvitationStatus::Pending && i.expires_at > quota.now
                })
                .map(|i| i.expires_at)
                .collect(),
        };
        if quota.admits(counted.len() as u64) {
            return Ok(());
        }
        Err(WriteError::Quota(quota.exceeded(counted.into_iter().min())))
    }

    /// Carries out `plans` in order (the `ports` module's contract); the
    /// events of their effects, to follow the plans' own.
    fn execute(&mut self, plans: &[MembershipPlan]) -> Result<Vec<Event>, WriteError> {
        let mut side = Vec::new();
        for plan in plans {
            side.extend(self.execute_one(plan)?);
        }
        Ok(side)
    }

    fn execute_one(&mut self, plan: &MembershipPlan) -> Result<Vec<Event>, WriteError> {
        self.check_all(&plan.guards)?;
        match &plan.write {
            MembershipWrite::Insert(m) => {
                if self.memberships.contains_key(&m.id) {
                    return Err(anyhow!("membership {} exists", m.id).into());
                }
                // One active membership per (organization, user): a concurrent join.
                if m.status == MembershipStatus::Active
                    && self.active_membership(m.organization_id, m.user_id).is_some()
                {
                    return Err(WriteError::Conflict);
                }
                self.memberships.insert(m.id, sorted_zones(m));
            }
            MembershipWrite::Update(next) => {
                let stored = self.memberships.get_mut(&next.id);
                match stored {
                    Some(m) if m.version == next.version - 1 && m.status == MembershipStatus::Active => {
                        *m = sorted_zones(next);
                    }
                    _ => return Err(WriteError::Conflict),
                }
            }
        }
        self.write_history(plan.membership(), &plan.history);
        for guard in &plan.guards {
            if let Guard::Remains { organization_id, role } = guard {
                let holders = self.memberships.values().filter(|m| {
                    m.organization_id == *organization_id
                        && m.role == *role
                        && m.status == MembershipStatus::Active
                        && m.expires_at.is_none()
                });
                if holders.count() == 0 {
                    return Err(WriteError::LastAdmin);
                }
            }
        }
        Ok(plan.effects.iter().flat_map(|effect| self.carry_out(effect)).collect())
    }

    /// Closes the membership's current history row and opens one for `m`.
    fn write_history(&mut self, m: &Membership, note: &HistoryNote) {
        for row in self.history.iter_mut().filter(|h| h.membership_id == m.id && h.valid_to.is_none()) {
            row.valid_to = Some(note.at);
        }
        let mut zones = m.zones.clone();
        zones.sort();
        self.history.push(MembershipHistory {
            membership_id: m.id,
            organization_id: m.organization_id,
            user_id: m.user_id,
            role: m.role,
            zones,
            status: m.status,
            expires_at: m.expires_at,
            valid_from: note.at,
            valid_to: None,
            changed_by: note.changed_by,
            invitation_id: note.invitation_id,
            cause: note.cause,
        });
    }

    fn carry_out(&mut self, effect: &Effect) -> Vec<Event> {
        match effect {
            Effect::RevokeInvitations(revocation) => {
                let mut revoked = Vec::new();
                for i in self.invitations.iter_mut().filter(|i| revocation.covers(i)) {
                    let (next, event) = revocation.revoke(i);
                    *i = next;
                    revoked.push(event);
                }
                return revoked;
            }
            Effect::ClearCurrent { user_id, organization_id } => {
                if let Some(user) = self.user_mut(*user_id)
                    && user.current_organization == Some(*organization_id)
                {
                    user.current_organization = None;
                }
            }
            Effect::Block { organization_id, user_id, blocked_by, at } => {
                if !self.is_blocked(*organization_id, *user_id) {
                    self.blocks.push(StoredBlock {
                        organization_id: *organization_id,
                        user_id: *user_id,
                        blocked_by: *blocked_by,
                        blocked_at: *at,
                    });
                }
            }
        }
        Vec::new()
    }

    fn insert_invitation(&mut self, invitation: &Invitation) -> Result<(), WriteError> {
        if self.invitations.iter().any(|i| i.id == invitation.id || i.token_hash == invitation.token_hash) {
            return Err(anyhow!("invitation {} (or its token) exists", invitation.id).into());
        }
        self.invitations.push(invitation.clone());
        Ok(())
    }

    fn queue_mail(&mut self, mail: &OutboxMail, org: OrganizationId, now: OffsetDateTime) {
        self.outbox.push(OutboxRow {
            mail: mail.clone(),
            organization_id: org,
            created_at: now,
            sent_at: None,
            abandoned_at: None,
            last_error: None,
        });
    }

    fn outbox_row(&mut self, id: OutboxId) -> anyhow::Result<&mut OutboxRow> {
        self.outbox.iter_mut().find(|r| r.mail.id == id).ok_or_else(|| anyhow!("no outbox mail {id}"))
    }

    /// The accept's body: the guards, one use taken while the invitation is
    /// still pending, unexpired, not used up and carries the token read,
    /// the lapsed membership ended, the membership written, the log row.
    fn accept(&mut self, plan: &AcceptPlan) -> Result<Vec<Event>, WriteError> {
        self.check_all(&plan.membership.guards)?;
        let read = &plan.read;
        let at = plan.log.at;
        let taken = plan.invitation.user_id.filter(|_| read.user_id.is_none());
        let Some(stored) = self.invitation_mut(read.id).filter(|i| {
            i.token_hash == read.token_hash
                && i.status == InvitationStatus::Pending
                && i.use_count < i.max_uses
                && i.expires_at > at
        }) else {
            return Err(WriteError::Conflict);
        };
        stored.use_count += 1;
        if stored.use_count >= stored.max_uses {
            stored.status = InvitationStatus::Accepted;
        }
        stored.user_id = stored.user_id.or(taken);
        stored.version += 1;
        stored.updated_at = at;
        let plans: Vec<_> = plan.end_lapsed.iter().chain([&plan.membership]).cloned().collect();
        let side = self.execute(&plans)?;
        self.acceptances.push(plan.log.clone());
        Ok(side)
    }

    /// Marks an import applied at `at`; `false` when it already was.
    fn claim_import(&mut self, due: &DueImport, at: OffsetDateTime) -> bool {
        let row = self.imports.iter_mut().find(|r| {
            r.organization_id == due.organization_id && r.line.email == due.line.email && r.applied_at.is_none()
        });
        row.map(|r| r.applied_at = Some(at)).is_some()
    }
}

/// `m` with its zones in order, as the SQL adapter reads them back.
fn sorted_zones(m: &Membership) -> Membership {
    let mut m = m.clone();
    m.zones.sort();
    m
}

/// Whether `(at, id)` sorts before the cursor's position.
fn before(cursor: Option<&Cursor<Uuid>>, at: OffsetDateTime, id: Uuid) -> bool {
    cursor.is_none_or(|c| (at, id) < (c.created_at, c.id))
}

/// A page of `rows`, newest first by `(at, id)`.
fn page_of<T>(
    mut rows: Vec<T>,
    page: &PageRequest<Uuid>,
    key: impl Fn(&T) -> (OffsetDateTime, Uuid),
) -> anyhow::Result<Page<T>> {
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows.drain(..) {
        let (at, id) = key(&row);
        if before(page.after(), at, id) {
            kept.push(row);
        }
    }
    kept.sort_by_key(|r| std::cmp::Reverse(key(r)));
    kept.truncate(page.limit() as usize + 1);
    Ok(Page::from_overfetch(kept, page, |r| {
        let (created_at, id) = key(r);
        Cursor { created_at, id }
    }))
}

#[async_trait]
impl OrganizationRepository for MemoryStore {
    async fn create(&self, founding: &Founding) -> Result<(), WriteError> {
        self.write(|s| {
            s.check_all(&founding.guards)?;
            let org = &founding.organization;
            if s.organizations.iter().any(|o| o.organization.id == org.id || o.organization.slug == org.slug) {
                // Slugs carry a random suffix; a clash is a lost race to retry with another.
                return Err(WriteError::Conflict);
            }
            s.organizations.push(StoredOrganization { organization: org.clone(), logo_key: None });
            let side = s.execute(std::slice::from_ref(&founding.admin))?;
            if let Some(user) = s.user_mut(org.created_by) {
                user.current_organization = Some(org.id);
            }
            s.events.extend([founding.event(), founding.admin.event()].into_iter().chain(side));
            Ok(())
        })
    }

    async fn get(&self, id: OrganizationId) -> anyhow::Result<Option<Organization>> {
        Ok(self.lock().organization(id).map(|o| o.organization.clone()))
    }

    async fn find(&self, reference: &str) -> anyhow::Result<Option<Organization>> {
        if let Ok(id) = reference.parse::<Uuid>() {
            return self.get(OrganizationId::from_uuid(id)).await;
        }
        let state = self.lock();
        let orgs = state.organizations.iter().map(|o| &o.organization);
        let by_slug = orgs.clone().find(|o| o.slug == reference);
        let by_name = || orgs.filter(|o| o.name == reference).min_by_key(|o| o.created_at);
        Ok(by_slug.or_else(by_name).cloned())
    }

    async fn rename(
        &self,
        id: OrganizationId,
        name: &str,
        now: OffsetDateTime,
        by: UserId,
    ) -> anyhow::Result<Option<Organization>> {
        let mut state = self.lock();
        let renamed = state.organization_mut(id).map(|o| {
            o.organization.name = name.to_owned();
            o.organization.updated_at = now;
            o.organization.clone()
        });
        if let Some(o) = &renamed {
            state.events.push(events::organization_updated(o, OrganizationChange::Name, by));
        }
        Ok(renamed)
    }

    async fn set_logo(
        &self,
        id: OrganizationId,
        ticket: TicketId,
        key: &ObjectKey,
        url: &str,
        now: OffsetDateTime,
        by: UserId,
    ) -> Result<Option<ObjectKey>, WriteError> {
        self.write(|s| {
            let org = s.organization_mut(id).ok_or_else(|| anyhow!("organization {id} vanished"))?;
            // Last, so that a failure above leaves the ticket issued; the
            // ticket lock is only ever taken inside this one.
            if !self.tickets.mark_used(ticket) {
                return Err(WriteError::Conflict);
            }
            org.organization.logo_url = Some(url.to_owned());
            org.organization.updated_at = now;
            let previous = org.logo_key.replace(key.clone());
            let event = events::organization_updated(&org.organization, OrganizationChange::Logo, by);
            s.events.push(event);
            Ok(previous)
        })
    }

    async fn clear_logo(
        &self,
        id: OrganizationId,
        now: OffsetDateTime,
        by: UserId,
    ) -> anyhow::Result<Option<ObjectKey>> {
        let mut state = self.lock();
        let org = state.organization_mut(id).ok_or_else(|| anyhow!("organization {id} vanished"))?;
        org.organization.logo_url = None;
        org.organization.updated_at = now;
        let previous = org.logo_key.take();
        let event = events::organization_updated(&org.organization, OrganizationChange::Logo, by);
        state.events.push(event);
        Ok(previous)
    }

    async fn create_zone(&self, zone: &Zone, by: UserId) -> Result<(), WriteError> {
        self.write(|s| {
            if s.zones.iter().any(|z| z.organization_id == zone.organization_id && z.key() == zone.key()) {
                return Err(WriteError::NameTaken);
            }
            s.zones.push(zone.clone());
            s.events.push(zone.created_event(by));
            Ok(())
        })
    }

    async fn zones(&self, org: OrganizationId) -> anyhow::Result<Vec<Zone>> {
        let mut zones: Vec<_> = self.lock().zones.iter().filter(|z| z.organization_id == org).cloned().collect();
        zones.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(zones)
    }

    async fn active_membership(&self, org: OrganizationId, user: UserId) -> anyhow::Result<Option<Membership>> {
        Ok(self.lock().active_membership(org, user).cloned())
    }

    async fn members(&self, query: &MemberQuery, page: &PageRequest<Uuid>) -> anyhow::Result<Page<Member>> {
        let state = self.lock();
        // `active` is the model's definition (shared_kernel::Tenure::grants_at), read at `query.at`.
        let granting =
            |m: &Membership| m.status == MembershipStatus::Active && m.expires_at.is_none_or(|e| e > query.at);
        let f = &query.filter;
        let rows = state
            .memberships
            .values()
            .filter(|m| m.organization_id == query.organization_id)
            .filter(|m| match f.status {
                Some(MembershipStatus::Active) => granting(m),
                Some(MembershipStatus::Inactive) => !granting(m),
                None => true,
            })
            .filter(|m| f.role.is_none_or(|r| m.role == r))
            .filter(|m| f.zone.is_none_or(|z| m.zones.is_empty() || m.zones.contains(&z)))
            .filter(|m| {
                query.within.as_ref().is_none_or(|w| !m.zones.is_empty() && m.zones.iter().all(|z| w.contains(z)))
            })
            .filter_map(|m| {
                let user = state.user(m.user_id)?;
                Some(Member {
                    membership: m.clone(),
                    display_name: user.display_name.clone(),
                    email: user.email.as_str().to_owned(),
                })
            })
            .filter(|member| f.search.as_ref().is_none_or(|s| s.matches(&member.display_name, &member.email)))
            .collect();
        page_of(rows, page, |m| (m.membership.joined_at, m.membership.id.as_uuid()))
    }

    async fn apply(&self, plans: &[MembershipPlan]) -> Result<(), WriteError> {
        self.write(|s| {
            let side = s.execute(plans)?;
            s.events.extend(plans.iter().map(MembershipPlan::event).chain(side));
            Ok(())
        })
    }

    async fn history(&self, org: OrganizationId, user: UserId) -> anyhow::Result<Vec<MembershipHistory>> {
        let mut rows: Vec<_> =
            self.lock().history.iter().filter(|h| h.organization_id == org && h.user_id == user).cloned().collect();
        // Stable: rows of one instant keep the order they were written in.
        rows.sort_by_key(|h| h.valid_from);
        Ok(rows)
    }

    async fn set_current(&self, membership: &Membership, _now: OffsetDateTime) -> Result<(), WriteError> {
        self.write(|s| {
            s.check(&Guard::Unchanged { membership_id: membership.id, version: membership.version })?;
            if let Some(user) = s.user_mut(membership.user_id) {
                user.current_organization = Some(membership.organization_id);
            }
            Ok(())
        })
    }

    async fn sidebar(&self, user: UserId) -> anyhow::Result<Vec<SidebarApp>> {
        let state = self.lock();
        Ok(state
            .memberships
            .values()
            .filter(|m| m.user_id == user && m.status == MembershipStatus::Active)
            .filter_map(|m| {
                let organization = state.organization(m.organization_id)?.organization.clone();
                Some(SidebarApp { organization, membership: m.clone() })
            })
            .collect())
    }

    async fn invitee(&self, user: UserId) -> anyhow::Result<Option<Invitee>> {
        Ok(self.lock().user(user).map(|u| Invitee {
            user_id: user,
            email: u.email.clone(),
            email_verified: u.email_verified,
        }))
    }

    async fn display_name(&self, user: UserId) -> anyhow::Result<Option<String>> {
        Ok(self.lock().user(user).map(|u| u.display_name.clone()))
    }

    async fn accounts_with_email(&self, email: &EmailAddress) -> anyhow::Result<Vec<Account>> {
        Ok(self.lock().accounts_with_email(email))
    }

    async fn is_blocked(&self, org: OrganizationId, user: UserId) -> anyhow::Result<bool> {
        Ok(self.lock().is_blocked(org, user))
    }

    async fn standing(&self, org: OrganizationId, creator: Option<UserId>, user: UserId) -> anyhow::Result<Standing> {
        let state = self.lock();
        Ok(Standing {
            grantor: creator.and_then(|c| state.active_membership(org, c).cloned()),
            existing: state.active_membership(org, user).cloned(),
            blocked: state.is_blocked(org, user),
        })
    }

    async fn unblock(&self, unblock: &Unblock) -> anyhow::Result<bool> {
        let mut state = self.lock();
        let before = state.blocks.len();
        state.blocks.retain(|b| !(b.organization_id == unblock.organization_id && b.user_id == unblock.user_id));
        let lifted = state.blocks.len() < before;
        if lifted {
            state.events.push(unblock.event());
        }
        Ok(lifted)
    }

    async fn blocks(&self, org: OrganizationId) -> anyhow::Result<Vec<Block>> {
        let state = self.lock();
        let mut blocks: Vec<_> = state
            .blocks
            .iter()
            .filter(|b| b.organization_id == org)
            .filter_map(|b| {
                let user = state.user(b.user_id)?;
                Some(Block {
                    user_id: b.user_id,
                    display_name: user.display_name.clone(),
                    email: user.email.as_str().to_owned(),
                    blocked_by: b.blocked_by,
                    blocked_at: b.blocked_at,
                })
            })
            .collect();
        blocks.sort_by(|a, b| b.blocked_at.cmp(&a.blocked_at).then(a.user_id.cmp(&b.user_id)));
        Ok(blocks)
    }

    async fn due_expiries(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<Membership>> {
        let state = self.lock();
        let mut due: Vec<_> = state
            .memberships
            .values()
            .filter(|m| m.status == MembershipStatus::Active && m.expires_at.is_some_and(|e| e <= now))
            .cloned()
            .collect();
        due.sort_by_key(|m| (m.expires_at, m.id));
        due.truncate(limit as usize);
        Ok(due)
    }
}

#[async_trait]
impl InvitationRepository for MemoryStore {
    async fn insert(&self, draft: &InvitationDraft, mail: Option<OutboxMail>) -> Result<(), WriteError> {
        self.write(|s| {
            s.check_all(&draft.guards)?;
            s.insert_invitation(&draft.invitation)?;
            if let Some(mail) = &mail {
                s.queue_mail(mail, draft.invitation.organization_id, draft.invitation.created_at);
            }
            s.events.push(draft.event());
            Ok(())
        })
    }

    async fn find_by_hash(&self, hash: &TokenHash) -> anyhow::Result<Option<Invitation>> {
        Ok(self.lock().invitations.iter().find(|i| i.token_hash == *hash).cloned())
    }

    async fn find(&self, id: InvitationId) -> anyhow::Result<Option<Invitation>> {
        Ok(self.lock().invitation(id).cloned())
    }

    async fn list(&self, query: &InvitationQuery, page: &PageRequest<Uuid>) -> anyhow::Result<Page<Invitation>> {
        let f = &query.filter;
        // The states are the model's (`InvitationFilter::state`), read at `query.at`.
        let rows = self
            .lock()
            .invitations
            .iter()
            .filter(|i| i.organization_id == query.organization_id)
            .filter(|i| f.state.is_none_or(|s| i.state(query.at) == s))
            .filter(|i| f.role.is_none_or(|r| i.role == r))
            .filter(|i| f.zone.is_none_or(|z| i.zone_id == Some(z)))
            .filter(|i| f.created_by.is_none_or(|u| i.created_by == u))
            .filter(|i| {
                f.email_prefix.as_ref().is_none_or(|p| i.email.as_ref().is_some_and(|e| e.as_str().starts_with(p)))
            })
            .filter(|i| query.within.as_ref().is_none_or(|w| i.zone_id.is_some_and(|z| w.contains(&z))))
            .cloned()
            .collect();
        page_of(rows, page, |i| (i.created_at, i.id.as_uuid()))
    }

    async fn mine(
        &self,
        user: UserId,
        email: Option<EmailAddress>,
        at: OffsetDateTime,
        page: &PageRequest<Uuid>,
    ) -> anyhow::Result<Page<Invitation>> {
        let rows = self
            .lock()
            .invitations
            .iter()
            .filter(|i| i.state(at) == InvitationState::Pending)
            .filter(|i| match i.user_id {
                Some(bound) => bound == user,
                None => email.is_some() && i.email == email,
            })
            .cloned()
            .collect();
        page_of(rows, page, |i| (i.created_at, i.id.as_uuid()))
    }

    async fn accept(&self, plan: &AcceptPlan) -> Result<(), WriteError> {
        self.write(|s| {
            let side = s.accept(plan)?;
            s.events.extend(plan.events().into_iter().chain(side));
            Ok(())
        })
    }

    async fn log(&self, entry: &Acceptance, event: &Event) -> anyhow::Result<()> {
        let mut state = self.lock();
        state.acceptances.push(entry.clone());
        state.events.push(event.clone());
        Ok(())
    }

    async fn update(
        &self,
        update: &InvitationUpdate,
        entry: Option<Acceptance>,
        mail: Option<OutboxMail>,
    ) -> Result<(), WriteError> {
        self.write(|s| {
            s.check_all(&update.guards)?;
            let next = &update.next;
            let Some(stored) = s.invitation_mut(next.id).filter(|i| {
                i.status == InvitationStatus::Pending && update.expected_token.is_none_or(|t| i.token_hash == t)
            }) else {
                return Err(WriteError::Conflict);
            };
            stored.status = next.status;
            stored.updated_at = next.updated_at;
            stored.version += 1;
            if update.expected_token.is_some() {
                stored.token_hash = next.token_hash;
                stored.expires_at = next.expires_at;
            }
            let logged = entry.as_ref().and_then(|e| e.event(next));
            if let Some(entry) = entry {
                s.acceptances.push(entry);
            }
            if let Some(mail) = &mail {
                s.queue_mail(mail, next.organization_id, next.updated_at);
            }
            s.events.extend([update.domain_event()].into_iter().chain(logged));
            Ok(())
        })
    }

    async fn acceptances(&self, id: InvitationId) -> anyhow::Result<Vec<Acceptance>> {
        let mut log: Vec<_> = self.lock().acceptances.iter().filter(|a| a.invitation_id == id).cloned().collect();
        log.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        log.truncate(1000);
        Ok(log)
    }

    async fn unannounced_expiries(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<Invitation>> {
        let state = self.lock();
        let mut due: Vec<_> = state
            .invitations
            .iter()
            .filter(|i| i.status == InvitationStatus::Pending && i.expires_at <= now)
            .filter(|i| state.expiry_announced.get(&i.id) != Some(&i.expires_at))
            .cloned()
            .collect();
        due.sort_by_key(|i| (i.expires_at, i.id.as_uuid()));
        due.truncate(limit as usize);
        Ok(due)
    }

    async fn announce_expiry(&self, expiry: &Expiry) -> Result<bool, WriteError> {
        self.write(|s| {
            let read = &expiry.invitation;
            let current = s.invitations.iter().find(|i| i.id == read.id);
            let due = current.is_some_and(|i| i.status == InvitationStatus::Pending && i.expires_at == read.expires_at);
            if !due || s.expiry_announced.get(&read.id) == Some(&read.expires_at) {
                return Ok(false);
            }
            s.expiry_announced.insert(read.id, read.expires_at);
            s.events.push(expiry.event());
            Ok(true)
        })
    }

    async fn due_mails(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<OutboxMail>> {
        let mut due: Vec<_> = self
            .lock()
            .outbox
            .iter()
            .filter(|r| r.open() && r.mail.next_attempt_at <= now)
            .map(|r| r.mail.clone())
            .collect();
        due.sort_by_key(|m| (m.next_attempt_at, m.id));
        due.truncate(limit as usize);
        Ok(due)
    }

    async fn claim_mail(
        &self,
        mail: &OutboxMail,
        lease_until: OffsetDateTime,
    ) -> anyhow::Result<Option<Option<Invitation>>> {
        let mut state = self.lock();
        let Some(row) = state
            .outbox
            .iter_mut()
            .find(|r| r.mail.id == mail.id && r.mail.next_attempt_at == mail.next_attempt_at && r.open())
        else {
            return Ok(None);
        };
        row.mail.next_attempt_at = lease_until;
        Ok(Some(state.invitation(mail.invitation_id).cloned()))
    }

    async fn mail_sent(&self, id: OutboxId, now: OffsetDateTime) -> anyhow::Result<()> {
        let mut state = self.lock();
        let row = state.outbox_row(id)?;
        row.sent_at = Some(now);
        row.last_error = None;
        Ok(())
    }

    async fn mail_failed(
        &self,
        id: OutboxId,
        attempts: u32,
        retry_at: Option<OffsetDateTime>,
        error: &str,
        now: OffsetDateTime,
    ) -> anyhow::Result<()> {
        let mut state = self.lock();
        let row = state.outbox_row(id)?;
        row.mail.attempts = attempts;
        if let Some(at) = retry_at {
            row.mail.next_attempt_at = at;
        }
        row.abandoned_at = retry_at.is_none().then_some(now);
        row.last_error = Some(error.chars().take(1000).collect());
        Ok(())
    }

    async fn mail_closed(&self, id: OutboxId, reason: &str, now: OffsetDateTime) -> anyhow::Result<()> {
        let mut state = self.lock();
        let row = state.outbox_row(id)?;
        row.abandoned_at = Some(now);
        row.last_error = Some(reason.chars().take(1000).collect());
        Ok(())
    }

    async fn imported(&self, org: OrganizationId, email: &EmailAddress) -> anyhow::Result<bool> {
        Ok(self.lock().imports.iter().any(|r| r.organization_id == org && r.line.email == *email))
    }

    async fn record_import(
        &self,
        line: &ImportLine,
        org: OrganizationId,
        invitation: Option<Invitation>,
        join: Option<AcceptPlan>,
        now: OffsetDateTime,
    ) -> Result<bool, WriteError> {
        let recorded = self.write(|s| {
            if let Some(invitation) = &invitation {
                s.insert_invitation(invitation)?;
            }
            if s.imports.iter().any(|r| r.organization_id == org && r.line.email == line.email) {
                // A concurrent run imported this line first.
                return Err(WriteError::Conflict);
            }
            s.imports.push(ImportRow {
                organization_id: org,
                line: line.clone(),
                invitation_id: invitation.as_ref().map(|i| i.id),
                created_at: now,
                applied_at: (join.is_some() || invitation.is_none()).then_some(now),
            });
            s.events.extend(invitation.iter().map(Invitation::created_event));
            if let Some(plan) = &join {
                let side = s.accept(plan)?;
                s.events.extend(plan.events().into_iter().chain(side));
            }
            Ok(())
        });
        match recorded {
            Ok(()) => Ok(true),
            Err(WriteError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn due_imports(&self, limit: u32) -> anyhow::Result<Vec<DueImport>> {
        let state = self.lock();
        let mut rows: Vec<_> = state.imports.iter().filter(|r| r.applied_at.is_none()).collect();
        rows.sort_by_key(|r| r.created_at);
        let mut due = Vec::new();
        for row in rows {
            let Some(invitation) = row.invitation_id.and_then(|id| state.invitation(id)) else { continue };
            let accounts = state.accounts_with_email(&row.line.email);
            if invitation.status != InvitationStatus::Pending || !accounts.iter().any(|a| a.email_verified) {
                continue;
            }
            due.push(DueImport {
                line: ImportLine { organization: invitation.organization_id.to_string(), ..row.line.clone() },
                organization_id: invitation.organization_id,
                invitation: invitation.clone(),
                accounts,
            });
            if due.len() >= limit as usize {
                break;
            }
        }
        Ok(due)
    }

    async fn apply_import(&self, due: &DueImport, plan: &AcceptPlan) -> Result<bool, WriteError> {
        self.write(|s| {
            if !s.claim_import(due, plan.log.at) {
                return Ok(false);
            }
            let side = s.accept(plan)?;
            s.events.extend(plan.events().into_iter().chain(side));
            Ok(true)
        })
    }

    async fn settle_import(&self, due: &DueImport, log: &Acceptance) -> anyhow::Result<()> {
        self.write(|s| {
            if s.claim_import(due, log.at) {
                s.acceptances.push(log.clone());
                s.events.extend(log.event(&due.invitation));
            }
            Ok(())
        })
    }
}

#[async_trait]
impl EventLog for MemoryStore {
    async fn read(&self, query: &FeedQuery) -> anyhow::Result<Vec<Recorded>> {
        Ok(self.lock().events.read(query))
    }

    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> anyhow::Result<u64> {
        Ok(self.lock().events.prune(cutoff, batch))
    }
}
