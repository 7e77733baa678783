//! The in-memory adapter (feature `memory`): [`MemoryPhotoVerificationRepository`],
//! to embed photo verification without a database, and for tests.
//!
//! All state sits behind one `std::sync::Mutex` and every call does its work
//! under it, so each call is atomic like the SQL adapter's transactions (a
//! `std` mutex and not tokio's: no lock is held across an `.await`). Upload
//! tickets live in an [`image_upload::memory::MemoryUploadTicketRepository`]
//! shared through an `Arc`; opening takes this repository's lock first, then
//! the tickets', never the other way round.

use crate::error::OpenError;
use crate::model::{Approval, PhotoEvent, PhotoVerification, PhotoVerificationId, Transition, VerificationStatus};
use crate::ports::{
    Opened, PhotoVerificationRepository, Saved, StatusFilter, UserSummary, VerificationFilter, VerificationWithUser,
};
use async_trait::async_trait;
use image_upload::memory::MemoryUploadTicketRepository;
use image_upload::{ObjectKey, TicketId, TicketState};
use shared_kernel::{
    Cursor, DiscordId, EventBuffer, EventLog, FeedQuery, Page, PageRequest, Recorded, UserId, truncate_to_micros,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use time::OffsetDateTime;

/// What this context knows of a user.
#[derive(Debug)]
struct KnownUser {
    summary: UserSummary,
    discord_id: Option<DiscordId>,
    avatar_key: Option<ObjectKey>,
}

#[derive(Debug, Default)]
struct State {
    users: HashMap<UserId, KnownUser>,
    verifications: HashMap<PhotoVerificationId, PhotoVerification>,
    /// In insertion order, which breaks ties of `at` as the SQL serial id does.
    events: Vec<PhotoEvent>,
    /// The public event of each entry, in commit order (the feed).
    public: EventBuffer,
}

impl State {
    /// Appends `record`'s log entries and their public events.
    fn append(&mut self, record: &PhotoVerification, events: &[PhotoEvent]) {
        self.events.extend(events.iter().map(|e| PhotoEvent { at: truncate_to_micros(e.at), ..e.clone() }));
        self.public.extend(events.iter().map(|e| crate::events::of(record, e)));
    }
}

/// Photo verifications and their event log in memory, with the SQL
/// adapter's semantics: opening uses the ticket and supersedes the user's
/// PENDING verification in one step (so at most one is PENDING per user),
/// every save is compare-and-set on `version`, an ACCEPTED save makes the
/// photo the user's avatar in the same step, instants are kept to the
/// microsecond as the databases store them.
///
/// Users belong to the user context; [`Self::put_user`] stands in for it,
/// and [`Self::user`] reads the avatar an accepted photo set.
#[derive(Debug)]
pub struct MemoryPhotoVerificationRepository {
    state: Mutex<State>,
    tickets: Arc<MemoryUploadTicketRepository>,
}

impl Default for MemoryPhotoVerificationRepository {
    fn default() -> Self {
        Self::new(Arc::new(MemoryUploadTicketRepository::new()))
    }
}

impl MemoryPhotoVerificationRepository {
    /// An empty repository that knows no users, using the upload tickets in
    /// `tickets` (the ones the upload flow issues).
    pub fn new(tickets: Arc<MemoryUploadTicketRepository>) -> Self {
        Self { state: Mutex::new(State::default()), tickets }
    }

    /// The ticket repository opening uses.
    pub fn tickets(&self) -> &Arc<MemoryUploadTicketRepository> {
        &self.tickets
    }

    /// Adds or replaces a user as the user context describes them, with
    /// their linked Discord id and the object key of their avatar.
    pub fn put_user(&self, summary: UserSummary, discord_id: Option<DiscordId>, avatar_key: Option<ObjectKey>) {
        let user = KnownUser { summary, discord_id, avatar_key };
        self.lock().users.insert(user.summary.id, user);
    }

    /// The user as this repository sees them (their avatar changes when a
    /// photo is accepted), if known.
    pub fn user(&self, id: UserId) -> Option<UserSummary> {
        self.lock().users.get(&id).map(|u| u.summary.clone())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the maps consistent before anything
        // in it can panic, so a poisoned lock still guards valid data.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The record as the databases keep it: instants to the microsecond.
fn stored(record: &PhotoVerification) -> PhotoVerification {
    let approval = |a: &Option<Approval>| a.as_ref().map(|a| Approval { by: a.by, at: truncate_to_micros(a.at) });
    let mut r = record.clone();
    r.profile.approval = approval(&record.profile.approval);
    r.discord.approval = approval(&record.discord.approval);
    r.discord.fetched_at = record.discord.fetched_at.map(truncate_to_micros);
    r.decided_at = record.decided_at.map(truncate_to_micros);
    r.created_at = truncate_to_micros(record.created_at);
    r.updated_at = truncate_to_micros(record.updated_at);
    r
}

#[async_trait]
impl PhotoVerificationRepository for MemoryPhotoVerificationRepository {
    async fn open(&self, ticket: TicketId, opened: &Transition, now: OffsetDateTime) -> Result<Opened, OpenError> {
        let record = &opened.record;
        let mut state = self.lock();
        // As in one transaction: a used ticket wins over a missing user, and
        // nothing is written unless both the ticket and the user are there.
        if self.tickets.state(ticket) != Some(TicketState::Issued) {
            return Err(OpenError::TicketUsed);
        }
        if !state.users.contains_key(&record.user_id) {
            return Err(OpenError::UserGone);
        }
        if state.verifications.contains_key(&record.id) {
            return Err(anyhow::anyhow!("photo verification {} already exists", record.id).into());
        }
        let pending = state
            .verifications
            .values()
            .find(|v| v.user_id == record.user_id && v.status == VerificationStatus::Pending)
            .cloned();
        let superseding = match pending {
            Some(old) => Some(
                old.supersede(record.user_id, now)
                    .map_err(|e| anyhow::anyhow!("superseding photo verification {}: {e}", old.id))?,
            ),
            None => None,
        };
        if !self.tickets.mark_used(ticket) {
            return Err(OpenError::TicketUsed);
        }
        let superseded = superseding.map(|t| {
            let written = stored(&t.record);
            state.verifications.insert(written.id, written.clone());
            state.append(&t.record, &t.events);
            written
        });
        state.verifications.insert(record.id, stored(record));
        state.append(record, &opened.events);
        Ok(Opened { verification: record.clone(), superseded })
    }

    async fn find(&self, id: PhotoVerificationId) -> anyhow::Result<Option<PhotoVerification>> {
        Ok(self.lock().verifications.get(&id).cloned())
    }

    async fn last_decided(&self, user: UserId) -> anyhow::Result<Option<PhotoVerification>> {
        let state = self.lock();
        let decided = state.verifications.values().filter(|v| {
            v.user_id == user && matches!(v.status, VerificationStatus::Accepted | VerificationStatus::Rejected)
        });
        Ok(decided.max_by_key(|v| (v.decided_at, v.id)).cloned())
    }

    async fn unread_discord(&self, limit: u32) -> anyhow::Result<Vec<PhotoVerification>> {
        let state = self.lock();
        let mut unread: Vec<PhotoVerification> = state
            .verifications
            .values()
            .filter(|v| {
                v.status == VerificationStatus::Pending && v.discord_id.is_some() && v.discord.fetched_at.is_none()
            })
            .cloned()
            .collect();
        unread.sort_by_key(|v| (v.created_at, v.id));
        unread.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(unread)
    }

    async fn pending_for_discord(&self, discord_id: &DiscordId) -> anyhow::Result<Option<PhotoVerification>> {
        let state = self.lock();
        let owners: Vec<UserId> =
            state.users.values().filter(|u| u.discord_id.as_ref() == Some(discord_id)).map(|u| u.summary.id).collect();
        Ok(state
            .verifications
            .values()
            .find(|v| owners.contains(&v.user_id) && v.status == VerificationStatus::Pending)
            .cloned())
    }

    async fn save(&self, expected_version: i64, transition: &Transition) -> anyhow::Result<Saved> {
        let record = &transition.record;
        let mut state = self.lock();
        let current = state
            .verifications
            .get(&record.id)
            .ok_or_else(|| anyhow::anyhow!("photo verification {} vanished during a decision", record.id))?;
        if current.version != expected_version {
            return Ok(Saved::Conflict(Box::new(current.clone())));
        }
        let replaced_avatar = if record.status == VerificationStatus::Accepted {
            let user = state.users.get_mut(&record.user_id).ok_or_else(|| {
                anyhow::anyhow!("user {} vanished while accepting photo {}", record.user_id, record.id)
            })?;
            user.summary.avatar_url = Some(record.profile.url.clone());
            user.avatar_key.replace(record.profile.object_key.clone())
        } else {
            None
        };
        state.verifications.insert(record.id, stored(record));
        state.append(record, &transition.events);
        Ok(Saved::Written { replaced_avatar })
    }

    async fn list(
        &self,
        filter: &VerificationFilter,
        page: &PageRequest<uuid::Uuid>,
    ) -> anyhow::Result<Page<VerificationWithUser>> {
        let after = page.after().map(|cursor| (cursor.created_at, PhotoVerificationId::from_uuid(cursor.id)));
        let state = self.lock();
        let username = filter.username.as_ref().map(|u| u.to_lowercase());
        let mut records: Vec<PhotoVerification> = state
            .verifications
            .values()
            .filter(|v| match filter.status {
                StatusFilter::Only(status) => v.status == status,
                StatusFilter::All => true,
            })
            .filter(|v| filter.user_id.is_none_or(|u| v.user_id == u))
            .filter(|v| {
                username
                    .as_deref()
                    .is_none_or(|name| state.users.get(&v.user_id).is_some_and(|u| u.summary.username == name))
            })
            .filter(|v| after.is_none_or(|a| (v.created_at, v.id) < a))
            .cloned()
            .collect();
        records.sort_by_key(|v| std::cmp::Reverse((v.created_at, v.id)));
        records.truncate(usize::try_from(page.limit()).unwrap_or(usize::MAX).saturating_add(1));
        let Page { items: records, next_cursor } =
            Page::from_overfetch(records, page, |v| Cursor { created_at: v.created_at, id: v.id.as_uuid() });
        let items = records
            .into_iter()
            .map(|verification| {
                let user = state
                    .users
                    .get(&verification.user_id)
                    .map(|u| u.summary.clone())
                    .ok_or_else(|| anyhow::anyhow!("photo verification {} has no user", verification.id))?;
                Ok(VerificationWithUser { verification, user })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Page { items, next_cursor })
    }

    async fn events(&self, id: PhotoVerificationId) -> anyhow::Result<Vec<PhotoEvent>> {
        let mut events: Vec<PhotoEvent> =
            self.lock().events.iter().filter(|e| e.verification_id == id).cloned().collect();
        // A stable sort: equal instants keep their insertion order.
        events.sort_by_key(|e| e.at);
        Ok(events)
    }
}

#[async_trait]
impl EventLog for MemoryPhotoVerificationRepository {
    async fn read(&self, query: &FeedQuery) -> anyhow::Result<Vec<Recorded>> {
        Ok(self.lock().public.read(query))
    }

    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> anyhow::Result<u64> {
        Ok(self.lock().public.prune(cutoff, batch))
    }
}
