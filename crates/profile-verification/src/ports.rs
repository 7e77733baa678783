//! The ports of the profile context: persistence and the cipher that seals
//! personal data before it is stored.

use crate::error::CreateProfileError;
use crate::model::{Decision, Label, Profile, ProfileId, ProfileState, Transition};
use async_trait::async_trait;
use shared_kernel::{Page, PageRequest, UserId};

/// Who a profile belongs to or was filed by, as reviewers see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSummary {
    /// The user's id.
    pub id: UserId,
    /// The e-mail.
    pub email: String,
    /// Whether the identity provider vouched for the e-mail.
    pub email_verified: bool,
    /// The username.
    pub username: String,
    /// The display name.
    pub display_name: String,
}

/// A profile in the admin list, with its user and author.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileListItem {
    /// The profile.
    pub profile: Profile,
    /// Its user.
    pub user: UserSummary,
    /// The superuser who filed it, if one did.
    pub author: Option<UserSummary>,
}

/// Filters of the admin list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileFilter {
    /// Only profiles in this state.
    pub state: Option<ProfileState>,
    /// Only this user's profiles.
    pub user_id: Option<UserId>,
}

/// Stores profiles, the decision log and labels.
///
/// Implementations MUST store `firstName`, `lastName`, `dob`, `address`,
/// `postcode`, `city` and `metadata` sealed by a [`PiiCipher`], and MUST enforce "one drafted or submitted
/// profile per user" in the database, so that racing requests cannot break it.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ProfileRepository: Send + Sync {
    /// Inserts a new profile with its `event` ([`opened`](crate::events::opened))
    /// in one transaction. MUST return `OpenProfileExists` (writing
    /// nothing) when the user already has a drafted or submitted one, and
    /// `UserMissing` when the user does not exist.
    async fn create(&self, profile: &Profile, event: &shared_kernel::Event) -> Result<(), CreateProfileError>;

    /// The profile with this id.
    async fn find(&self, id: ProfileId) -> anyhow::Result<Option<Profile>>;

    /// The user's drafted or submitted profile, if any.
    async fn open_of(&self, user: UserId) -> anyhow::Result<Option<Profile>>;

    /// Every profile of the user, newest first.
    async fn of_user(&self, user: UserId) -> anyhow::Result<Vec<Profile>>;

    /// Stores an edited draft with its `event` ([`changed`](crate::events::changed))
    /// in one transaction if its stored version is still `expected_version`;
    /// returns whether it was stored (nothing is written otherwise).
    async fn update_draft(
        &self,
        profile: &Profile,
        expected_version: i64,
        event: &shared_kernel::Event,
    ) -> anyhow::Result<bool>;

    /// In ONE transaction: moves the profile to its decided state (the
    /// transition's record) if it is still submitted at `expected_version`,
    /// then writes each event in order: a `Decided` is appended to the log, a
    /// `Labelled` label is set on the profile's user; and the decision's
    /// public events ([`decided`](crate::events::decided)). Returns `false`
    /// (writing nothing) when another decision or change came first.
    async fn decide(&self, decided: &Transition, expected_version: i64) -> anyhow::Result<bool>;

    /// A page of profiles, newest first, with their users and authors.
    async fn list(
        &self,
        filter: &ProfileFilter,
        page: &PageRequest<uuid::Uuid>,
    ) -> anyhow::Result<Page<ProfileListItem>>;

    /// Every decision on any profile of the user, newest first.
    async fn decisions_of_user(&self, user: UserId) -> anyhow::Result<Vec<Decision>>;

    /// The summary of a user, or `None` if there is no such user.
    async fn user_summary(&self, user: UserId) -> anyhow::Result<Option<UserSummary>>;

    /// The user's labels, including `email: verified` derived from the
    /// user's verified e-mail; `None` if there is no such user.
    async fn labels(&self, user: UserId) -> anyhow::Result<Option<Vec<Label>>>;

    /// Erases the user's profile personal data for good, in ONE
    /// transaction: destroys their data key (so every copy of the sealed
    /// values, backups included, stays sealed) and clears the sealed
    /// columns. Profiles, decisions and labels stay. Afterwards no new data
    /// key is made for the user: creating a profile for them MUST fail with
    /// `UserMissing`. Idempotent.
    async fn shred(&self, user: UserId) -> anyhow::Result<()>;
}

/// A stored value was sealed with a key this instance is not configured
/// with. [`PiiCipher::open`] returns it (inside its `anyhow::Error`) so the
/// app can answer 503 — a configuration problem of this replica, not a bug.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a value was sealed with encryption key {key_id:?}, which this instance is not configured with")]
pub struct KeyUnavailable {
    /// The id of the missing key.
    pub key_id: String,
}

/// Seals personal data for storage and opens it again.
///
/// `context` names where the value lives (for example
/// `profiles.first_name:<profile id>`); implementations MUST bind the sealed
/// value to it (as AEAD associated data), so a value copied to another row
/// or column fails to open. A sealed value MUST say which key sealed it, so
/// values sealed with a rotated-out key open while that key is configured.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait PiiCipher: Send + Sync {
    /// Encrypts `plaintext` with the active key and a fresh nonce.
    fn seal(&self, plaintext: &str, context: &str) -> anyhow::Result<String>;

    /// Decrypts a value made by `seal` with the same `context`. A value
    /// sealed with a key that is not configured MUST fail with a
    /// [`KeyUnavailable`] (possibly under added context).
    fn open(&self, sealed: &str, context: &str) -> anyhow::Result<String>;

    /// A fresh random data key for one user, returned wrapped (sealed with
    /// the active key under `key_context`). A user's personal data is sealed
    /// with their data key, so destroying the wrapped key erases it
    /// everywhere, backups included (crypto-shredding).
    fn new_data_key(&self, key_context: &str) -> anyhow::Result<String>;

    /// Seals `plaintext` with the data key `wrapped` (unwrapped under
    /// `key_context`), bound to `context` like [`Self::seal`].
    fn seal_with(&self, wrapped: &str, key_context: &str, plaintext: &str, context: &str) -> anyhow::Result<String>;

    /// Opens a value made by [`Self::seal_with`] with the same data key and contexts.
    fn open_with(&self, wrapped: &str, key_context: &str, sealed: &str, context: &str) -> anyhow::Result<String>;

    /// Whether `stored` was sealed with a user's data key (by [`Self::seal_with`]).
    fn is_data_sealed(&self, stored: &str) -> bool;
}
