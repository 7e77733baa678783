//! The in-memory adapter (feature `memory`): [`MemoryProfileRepository`],
//! to embed the profile use cases without a database, and for tests.
//!
//! All state sits behind one `std::sync::Mutex` and every call does its work
//! under it, so each call is atomic like the SQL adapter's transactions (a
//! `std` mutex and not tokio's: no lock is held across an `.await`).
//!
//! Personal data is held in process memory only and never written anywhere,
//! so it is not sealed: the [`PiiCipher`](crate::PiiCipher) rule of
//! [`ProfileRepository`] is about data at rest. Crypto-shredding is kept
//! by its effect: [`ProfileRepository::shred`] clears the personal fields
//! and refuses new profiles for the user, as the destroyed data key does.

use crate::error::CreateProfileError;
use crate::model::{Decision, Label, LabelKey, LabelScope, Profile, ProfileEvent, ProfileId, ProfileState, Transition};
use crate::ports::{ProfileFilter, ProfileListItem, ProfileRepository, UserSummary};
use async_trait::async_trait;
use shared_kernel::{
    Cursor, Event, EventBuffer, EventLog, FeedQuery, Page, PageRequest, Recorded, UserId, truncate_to_micros,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use time::OffsetDateTime;

#[derive(Debug)]
struct KnownUser {
    summary: UserSummary,
    updated_at: OffsetDateTime,
}

#[derive(Debug, Default)]
struct State {
    users: HashMap<UserId, KnownUser>,
    shredded: HashSet<UserId>,
    profiles: HashMap<ProfileId, Profile>,
    decisions: Vec<Decision>,
    /// Keyed by user, key and scope, as the SQL table's primary key.
    labels: BTreeMap<(UserId, String, &'static str), Label>,
    /// The public events, in commit order (the feed).
    events: EventBuffer,
}

impl State {
    fn of_user(&self, user: UserId) -> Vec<Profile> {
        let mut profiles: Vec<Profile> = self.profiles.values().filter(|p| p.user_id == user).cloned().collect();
        newest_first(&mut profiles);
        profiles
    }
}

fn newest_first(profiles: &mut [Profile]) {
    profiles.sort_by_key(|p| std::cmp::Reverse((p.created_at, p.id)));
}

/// Profiles, the decision log and labels in memory, with the SQL adapter's
/// semantics: one drafted or submitted profile per user, compare-and-set on
/// `version`, a decision written with its log entry and label in one step,
/// the `email` label derived from the user's verified e-mail, instants kept
/// to the microsecond as the databases store them.
///
/// Users belong to the user context; [`Self::put_user`] stands in for it
/// (a profile is only created for a known user).
#[derive(Debug, Default)]
pub struct MemoryProfileRepository {
    state: Mutex<State>,
}

impl MemoryProfileRepository {
    /// An empty repository that knows no users.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a user as the user context describes them;
    /// `updated_at` is when their row last changed (the `email` label's time).
    pub fn put_user(&self, summary: UserSummary, updated_at: OffsetDateTime) {
        let user = KnownUser { summary, updated_at: truncate_to_micros(updated_at) };
        self.lock().users.insert(user.summary.id, user);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the maps consistent before anything
        // in it can panic, so a poisoned lock still guards valid data.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The profile as the databases keep it: instants to the microsecond.
fn stored(profile: &Profile) -> Profile {
    Profile {
        created_at: truncate_to_micros(profile.created_at),
        updated_at: truncate_to_micros(profile.updated_at),
        ..profile.clone()
    }
}

#[async_trait]
impl ProfileRepository for MemoryProfileRepository {
    async fn create(&self, profile: &Profile, event: &Event) -> Result<(), CreateProfileError> {
        let mut state = self.lock();
        if !state.users.contains_key(&profile.user_id) || state.shredded.contains(&profile.user_id) {
            return Err(CreateProfileError::UserMissing);
        }
        if profile.state.is_open() && state.profiles.values().any(|p| p.user_id == profile.user_id && p.state.is_open())
        {
            return Err(CreateProfileError::OpenProfileExists);
        }
        if state.profiles.contains_key(&profile.id) {
            return Err(anyhow::anyhow!("profile {} already exists", profile.id).into());
        }
        state.profiles.insert(profile.id, stored(profile));
        state.events.push(event.clone());
        Ok(())
    }

    async fn find(&self, id: ProfileId) -> anyhow::Result<Option<Profile>> {
        Ok(self.lock().profiles.get(&id).cloned())
    }

    async fn open_of(&self, user: UserId) -> anyhow::Result<Option<Profile>> {
        Ok(self.lock().profiles.values().find(|p| p.user_id == user && p.state.is_open()).cloned())
    }

    async fn of_user(&self, user: UserId) -> anyhow::Result<Vec<Profile>> {
        Ok(self.lock().of_user(user))
    }

    async fn update_draft(&self, profile: &Profile, expected_version: i64, event: &Event) -> anyhow::Result<bool> {
        let mut state = self.lock();
        // The user was erased meanwhile: their draft is no longer theirs to write.
        if state.shredded.contains(&profile.user_id) {
            return Ok(false);
        }
        let Some(current) = state.profiles.get_mut(&profile.id) else { return Ok(false) };
        if current.version != expected_version || current.state != ProfileState::Drafted {
            return Ok(false);
        }
        current.fields = profile.fields.clone();
        current.state = profile.state;
        current.updated_at = truncate_to_micros(profile.updated_at);
        current.version = profile.version;
        state.events.push(event.clone());
        Ok(true)
    }

    async fn decide(&self, decided: &Transition, expected_version: i64) -> anyhow::Result<bool> {
        let mut state = self.lock();
        let profile = &decided.record;
        let Some(current) = state.profiles.get_mut(&profile.id) else { return Ok(false) };
        if current.version != expected_version || current.state != ProfileState::Submitted {
            return Ok(false);
        }
        current.state = profile.state;
        current.updated_at = truncate_to_micros(profile.updated_at);
        current.version = profile.version;
        let user = current.user_id;
        for event in &decided.events {
            match event {
                ProfileEvent::Decided(decision) => {
                    state.decisions.push(Decision { at: truncate_to_micros(decision.at), ..decision.clone() });
                }
                ProfileEvent::Labelled(label) => {
                    let label = Label { updated_at: truncate_to_micros(label.updated_at), ..label.clone() };
                    state.labels.insert((user, label.key.as_str().to_owned(), label.scope.as_str()), label);
                }
            }
        }
        state.events.extend(crate::events::decided(decided));
        Ok(true)
    }

    async fn list(
        &self,
        filter: &ProfileFilter,
        page: &PageRequest<uuid::Uuid>,
    ) -> anyhow::Result<Page<ProfileListItem>> {
        let after = page.after().map(|cursor| (cursor.created_at, ProfileId::from_uuid(cursor.id)));
        let state = self.lock();
        let mut rows: Vec<Profile> = state
            .profiles
            .values()
            .filter(|p| filter.state.is_none_or(|s| p.state == s))
            .filter(|p| filter.user_id.is_none_or(|u| p.user_id == u))
            .filter(|p| after.is_none_or(|a| (p.created_at, p.id) < a))
            .cloned()
            .collect();
        newest_first(&mut rows);
        rows.truncate(usize::try_from(page.limit()).unwrap_or(usize::MAX).saturating_add(1));
        let summary = |id: UserId| state.users.get(&id).map(|u| u.summary.clone());
        let items = rows
            .into_iter()
            .map(|profile| {
                let user = summary(profile.user_id)
                    .ok_or_else(|| anyhow::anyhow!("user {} of profile {} is missing", profile.user_id, profile.id))?;
                let author = profile.author.and_then(summary);
                Ok(ProfileListItem { profile, user, author })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |last| Cursor {
            created_at: last.profile.created_at,
            id: last.profile.id.as_uuid(),
        }))
    }

    async fn decisions_of_user(&self, user: UserId) -> anyhow::Result<Vec<Decision>> {
        let state = self.lock();
        let mut decisions: Vec<Decision> = state
            .decisions
            .iter()
            .filter(|d| state.profiles.get(&d.profile_id).is_some_and(|p| p.user_id == user))
            .cloned()
            .collect();
        decisions.sort_by_key(|d| std::cmp::Reverse((d.at, d.id)));
        Ok(decisions)
    }

    async fn user_summary(&self, user: UserId) -> anyhow::Result<Option<UserSummary>> {
        Ok(self.lock().users.get(&user).map(|u| u.summary.clone()))
    }

    async fn labels(&self, user: UserId) -> anyhow::Result<Option<Vec<Label>>> {
        let state = self.lock();
        let Some(known) = state.users.get(&user) else { return Ok(None) };
        let mut labels = Vec::new();
        if known.summary.email_verified {
            labels.push(Label {
                key: LabelKey::email(),
                value: "verified".to_owned(),
                scope: LabelScope::Private,
                updated_at: known.updated_at,
            });
        }
        // The map is ordered by user, key and scope, as the SQL read is.
        labels.extend(state.labels.iter().filter(|((u, _, _), _)| *u == user).map(|(_, label)| label.clone()));
        Ok(Some(labels))
    }

    async fn shred(&self, user: UserId) -> anyhow::Result<()> {
        let mut state = self.lock();
        state.shredded.insert(user);
        for profile in state.profiles.values_mut().filter(|p| p.user_id == user) {
            let fields = &mut profile.fields;
            fields.first_name = None;
            fields.last_name = None;
            fields.dob = None;
            fields.address = None;
            fields.postcode = None;
            fields.city = None;
            fields.metadata = None;
        }
        Ok(())
    }
}

#[async_trait]
impl EventLog for MemoryProfileRepository {
    async fn read(&self, query: &FeedQuery) -> anyhow::Result<Vec<Recorded>> {
        Ok(self.lock().events.read(query))
    }

    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> anyhow::Result<u64> {
        Ok(self.lock().events.prune(cutoff, batch))
    }
}
