//! The in-memory adapter (feature `memory`): [`MemoryUserRepository`], to
//! embed the user use cases without a database, and for tests.
//!
//! All state sits behind one `std::sync::Mutex` and every call does its work
//! under it, so each call is atomic like the SQL adapter's transactions. A
//! `std` mutex and not tokio's: no lock is held across an `.await`. The
//! avatar's upload tickets live in an
//! [`image_upload::memory::MemoryUploadTicketRepository`] shared through an
//! `Arc`; calls that touch both take the users' lock first, then the
//! tickets', never the other way round.

use crate::erasure::{Erased, Erasure, ErasureRecord};
use crate::error::{AdminUserError, CreateUserError, SetAvatarError};
use crate::events;
use crate::model::{
    AdminUserUpdate, IdentityRefresh, Integrations, MembershipRecord, NewUser, ProfileChange, User, UserRecord,
    ViewQuery,
};
use crate::ports::UserRepository;
use async_trait::async_trait;
use image_upload::memory::MemoryUploadTicketRepository;
use image_upload::{ObjectKey, TicketId, TicketState};
use shared_kernel::{
    Cursor, EmailAddress, EventBuffer, EventLog, FeedQuery, Page, PageRequest, PlatformRole, Recorded, UserId,
    truncate_to_micros,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use time::OffsetDateTime;

#[derive(Debug)]
struct Row {
    user: User,
    avatar_key: Option<ObjectKey>,
}

#[derive(Debug, Default)]
struct Users {
    last_id: i64,
    rows: BTreeMap<i64, Row>,
    erasures: HashMap<i64, ErasureRecord>,
    memberships: HashMap<i64, Vec<MembershipRecord>>,
    /// The events of the changes above, in the order they were made.
    events: EventBuffer,
}

impl Users {
    fn taken(&self, except: Option<UserId>, held: impl Fn(&User) -> bool) -> bool {
        self.rows.values().any(|r| Some(r.user.id) != except && held(&r.user))
    }

    fn row(&mut self, id: UserId) -> Option<&mut Row> {
        self.rows.get_mut(&id.get())
    }
}

/// Users in memory, with the SQL adapter's semantics: ids from 1 upwards,
/// unique subjects, usernames and Discord ids, the last superuser kept,
/// instants kept to the microsecond as the databases store them.
///
/// The view counts the avatar tries held by the shared ticket repository.
/// Memberships belong to the invitations context; [`Self::set_memberships`]
/// stands in for it.
#[derive(Debug)]
pub struct MemoryUserRepository {
    users: Mutex<Users>,
    tickets: Arc<MemoryUploadTicketRepository>,
}

impl Default for MemoryUserRepository {
    fn default() -> Self {
        Self::new(Arc::new(MemoryUploadTicketRepository::new()))
    }
}

impl MemoryUserRepository {
    /// An empty repository whose avatar tickets are `tickets` (the ones the
    /// upload flow issues).
    pub fn new(tickets: Arc<MemoryUploadTicketRepository>) -> Self {
        Self { users: Mutex::new(Users::default()), tickets }
    }

    /// The ticket repository the avatar uses.
    pub fn tickets(&self) -> &Arc<MemoryUploadTicketRepository> {
        &self.tickets
    }

    /// Replaces the memberships a view of `user` reads (the invitations
    /// context owns them; an embedder without it may set them here).
    pub fn set_memberships(&self, user: UserId, memberships: Vec<MembershipRecord>) {
        self.lock().memberships.insert(user.get(), memberships);
    }

    fn lock(&self) -> MutexGuard<'_, Users> {
        // Every critical section leaves the maps consistent before anything
        // in it can panic, so a poisoned lock still guards valid data.
        self.users.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The view of `id` from the locked state.
    fn view_of(&self, users: &Users, id: UserId, query: ViewQuery) -> Option<UserRecord> {
        let row = users.rows.get(&id.get())?;
        let memberships = users
            .memberships
            .get(&id.get())
            .into_iter()
            .flatten()
            .filter(|m| m.tenure.ended_at.is_none_or(|ended| ended > query.ended_since))
            .cloned()
            .collect();
        let used = self.tickets.count_tries("avatar", &id.to_string(), query.tries_since);
        Some(UserRecord { user: row.user.clone(), memberships, avatar_tries_used: used.count })
    }

    /// Replaces the avatar under the locked state; returns the previous key.
    fn replace_avatar(
        users: &mut Users,
        id: UserId,
        avatar: Option<(&ObjectKey, &str)>,
        now: OffsetDateTime,
    ) -> Result<Option<ObjectKey>, SetAvatarError> {
        let row = users.row(id).ok_or(SetAvatarError::UserGone)?;
        row.user.avatar_url = avatar.map(|(_, url)| url.to_owned());
        row.user.updated_at = truncate_to_micros(now);
        let previous = std::mem::replace(&mut row.avatar_key, avatar.map(|(key, _)| key.clone()));
        // Removing an avatar when there is none changes nothing: no event.
        if avatar.is_some() || previous.is_some() {
            let event = events::updated(&row.user, crate::model::Changed::Avatar, truncate_to_micros(now));
            users.events.push(event);
        }
        Ok(previous)
    }
}

#[async_trait]
impl UserRepository for MemoryUserRepository {
    async fn find_by_subject(&self, subject: &str) -> anyhow::Result<Option<User>> {
        Ok(self.lock().rows.values().find(|r| r.user.subject == subject).map(|r| r.user.clone()))
    }

    async fn create(&self, new: &NewUser) -> Result<User, CreateUserError> {
        let mut users = self.lock();
        if users.taken(None, |u| u.subject == new.identity.subject()) {
            return Err(CreateUserError::SubjectTaken);
        }
        if users.taken(None, |u| u.username == new.username) {
            return Err(CreateUserError::UsernameTaken);
        }
        users.last_id += 1;
        let now = truncate_to_micros(new.now);
        let user = User {
            id: UserId::new(users.last_id),
            subject: new.identity.subject().to_owned(),
            email: new.email.clone(),
            email_verified: new.identity.email_verified,
            first_name: new.identity.given_name.clone(),
            last_name: new.identity.family_name.clone(),
            display_name: new.display_name.clone(),
            username: new.username.clone(),
            avatar_url: None,
            current_organization_id: None,
            manual_status: None,
            integrations: Integrations::default(),
            platform_role: new.platform_role,
            discord_id: None,
            created_at: now,
            updated_at: now,
        };
        users.rows.insert(user.id.get(), Row { user: user.clone(), avatar_key: None });
        users.events.push(events::provisioned(&user));
        Ok(user)
    }

    async fn refresh_identity(
        &self,
        id: UserId,
        refresh: &IdentityRefresh,
        now: OffsetDateTime,
    ) -> anyhow::Result<Option<User>> {
        let mut users = self.lock();
        let Some(row) = users.row(id) else { return Ok(None) };
        row.user.email = refresh.email.clone();
        row.user.email_verified = refresh.email_verified;
        row.user.first_name = refresh.first_name.clone();
        row.user.last_name = refresh.last_name.clone();
        row.user.updated_at = truncate_to_micros(now);
        Ok(Some(row.user.clone()))
    }

    async fn view(&self, id: UserId, query: ViewQuery) -> anyhow::Result<Option<UserRecord>> {
        Ok(self.view_of(&self.lock(), id, query))
    }

    async fn view_by_subject(&self, subject: &str, query: ViewQuery) -> anyhow::Result<Option<UserRecord>> {
        let users = self.lock();
        let id = users.rows.values().find(|r| r.user.subject == subject).map(|r| r.user.id);
        Ok(id.and_then(|id| self.view_of(&users, id, query)))
    }

    async fn change_profile(
        &self,
        id: UserId,
        change: &ProfileChange,
        now: OffsetDateTime,
    ) -> anyhow::Result<Option<User>> {
        let mut users = self.lock();
        let Some(row) = users.row(id) else { return Ok(None) };
        change.apply(&mut row.user, truncate_to_micros(now));
        let user = row.user.clone();
        users.events.push(events::updated(&user, change.changed(), truncate_to_micros(now)));
        Ok(Some(user))
    }

    async fn set_avatar(
        &self,
        id: UserId,
        ticket: TicketId,
        key: &ObjectKey,
        url: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ObjectKey>, SetAvatarError> {
        let mut users = self.lock();
        // As in one transaction: a used ticket wins over a missing user, and
        // nothing is written unless both the ticket and the user are there.
        if self.tickets.state(ticket) != Some(TicketState::Issued) {
            return Err(SetAvatarError::TicketUsed);
        }
        if users.row(id).is_none() {
            return Err(SetAvatarError::UserGone);
        }
        if !self.tickets.mark_used(ticket) {
            return Err(SetAvatarError::TicketUsed);
        }
        Self::replace_avatar(&mut users, id, Some((key, url)), now)
    }

    async fn clear_avatar(&self, id: UserId, now: OffsetDateTime) -> Result<Option<ObjectKey>, SetAvatarError> {
        Self::replace_avatar(&mut self.lock(), id, None, now)
    }

    async fn find_by_email(&self, email: &EmailAddress) -> anyhow::Result<Vec<User>> {
        // `rows` is ordered by id, which is creation order.
        Ok(self.lock().rows.values().filter(|r| &r.user.email == email).map(|r| r.user.clone()).collect())
    }

    async fn admin_update(
        &self,
        id: UserId,
        update: &AdminUserUpdate,
        now: OffsetDateTime,
        by: Option<UserId>,
    ) -> Result<User, AdminUserError> {
        let mut users = self.lock();
        let Some(target) = users.rows.get(&id.get()) else { return Err(AdminUserError::NotFound) };
        if update.platform_role == Some(PlatformRole::User)
            && target.user.platform_role == PlatformRole::Superuser
            && !users.taken(Some(id), |u| u.platform_role == PlatformRole::Superuser)
        {
            return Err(AdminUserError::LastSuperuser);
        }
        if let Some(Some(discord)) = &update.discord_id
            && users.taken(Some(id), |u| u.discord_id.as_ref() == Some(discord))
        {
            return Err(AdminUserError::DiscordIdTaken);
        }
        if let Some(username) = &update.username
            && users.taken(Some(id), |u| &u.username == username)
        {
            return Err(AdminUserError::UsernameTaken);
        }
        let row = users.row(id).ok_or(AdminUserError::NotFound)?;
        let before = row.user.platform_role;
        if let Some(role) = update.platform_role {
            row.user.platform_role = role;
        }
        if let Some(discord) = &update.discord_id {
            row.user.discord_id = discord.clone();
        }
        if let Some(username) = &update.username {
            row.user.username = username.clone();
        }
        row.user.updated_at = truncate_to_micros(now);
        let user = row.user.clone();
        users.events.extend(events::admin_updated(before, &user, by, now));
        Ok(user)
    }

    async fn search(&self, query: Option<String>, page: &PageRequest<UserId>) -> anyhow::Result<Page<User>> {
        let after = page.after().map(|cursor| (cursor.created_at, cursor.id.get()));
        let needle = query.map(|q| q.to_lowercase());
        let matches = |u: &User| {
            needle.as_deref().is_none_or(|q| {
                [u.email.as_str(), u.username.as_str(), u.display_name.as_str()]
                    .iter()
                    .any(|field| field.to_lowercase().contains(q))
            })
        };
        let users = self.lock();
        let mut found: Vec<User> = users
            .rows
            .values()
            .map(|r| &r.user)
            .filter(|u| matches(u) && after.is_none_or(|a| (u.created_at, u.id.get()) > a))
            .cloned()
            .collect();
        found.sort_by_key(|u| (u.created_at, u.id.get()));
        found.truncate(usize::try_from(page.limit()).unwrap_or(usize::MAX).saturating_add(1));
        Ok(Page::from_overfetch(found, page, |u| Cursor { created_at: u.created_at, id: u.id }))
    }

    async fn find(&self, id: UserId) -> anyhow::Result<Option<User>> {
        Ok(self.lock().rows.get(&id.get()).map(|r| r.user.clone()))
    }

    async fn find_many(&self, ids: &[UserId]) -> anyhow::Result<Vec<User>> {
        let state = self.lock();
        let distinct: std::collections::BTreeSet<i64> = ids.iter().map(|id| id.get()).collect();
        Ok(distinct.iter().filter_map(|id| state.rows.get(id).map(|r| r.user.clone())).collect())
    }

    async fn erase(&self, erasure: &Erasure) -> anyhow::Result<Erased> {
        let id = erasure.user_id;
        let mut users = self.lock();
        if users.row(id).is_none() {
            anyhow::bail!("user {id} vanished before its erasure");
        }
        if let Some(done) = users.erasures.get(&id.get()) {
            return Ok(Erased::Already(done.clone()));
        }
        let record = ErasureRecord { user_id: id, by: Some(erasure.by), at: truncate_to_micros(erasure.at) };
        users.erasures.insert(id.get(), record.clone());
        let row = users.row(id).ok_or_else(|| anyhow::anyhow!("user {id} vanished during its erasure"))?;
        let user = &mut row.user;
        user.subject.clone_from(&erasure.subject);
        user.email = erasure.email.clone();
        user.email_verified = false;
        user.first_name = None;
        user.last_name = None;
        user.display_name = erasure.display_name.clone();
        user.username = erasure.username.clone();
        user.avatar_url = None;
        user.current_organization_id = None;
        user.manual_status = None;
        user.integrations = Integrations::default();
        user.platform_role = PlatformRole::User;
        user.discord_id = None;
        user.updated_at = truncate_to_micros(erasure.at);
        let avatar = row.avatar_key.take();
        users.events.push(events::erased(erasure));
        Ok(Erased::Now { record, avatar })
    }
}

#[async_trait]
impl EventLog for MemoryUserRepository {
    async fn read(&self, query: &FeedQuery) -> anyhow::Result<Vec<Recorded>> {
        Ok(self.lock().events.read(query))
    }

    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> anyhow::Result<u64> {
        Ok(self.lock().events.prune(cutoff, batch))
    }
}
