//! The persistence port of the user aggregate.

use crate::erasure::{Erased, Erasure};
use crate::error::{AdminUserError, CreateUserError, SetAvatarError};
use crate::model::{AdminUserUpdate, IdentityRefresh, NewUser, ProfileChange, User, UserRecord, ViewQuery};
use async_trait::async_trait;
use image_upload::{ObjectKey, TicketId};
use shared_kernel::{EmailAddress, Page, PageRequest, UserId};
use time::OffsetDateTime;

/// Stores users.
///
/// Every method MUST be atomic; errors other than the typed ones are
/// `anyhow` chains that the app turns into 503 (database unavailable) or 500.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// The user whose identity-provider subject is `subject`, if any.
    async fn find_by_subject(&self, subject: &str) -> anyhow::Result<Option<User>>;

    /// Inserts a user with its `user.provisioned`
    /// ([`provisioned`](crate::events::provisioned)), in one transaction.
    /// MUST return `SubjectTaken` when a user with the same subject exists
    /// and `UsernameTaken` when the username is taken, leaving nothing
    /// written in either case.
    async fn create(&self, new: &NewUser) -> Result<User, CreateUserError>;

    /// Stores the identity provider's current e-mail, verification flag and
    /// names for `id`; returns the updated user, or `None` if it is gone.
    async fn refresh_identity(
        &self,
        id: UserId,
        refresh: &IdentityRefresh,
        now: OffsetDateTime,
    ) -> anyhow::Result<Option<User>>;

    /// Everything the User DTO is built from (the row, the memberships and
    /// avatar tries `query` selects), in one round trip. `None` if the user is gone.
    async fn view(&self, id: UserId, query: ViewQuery) -> anyhow::Result<Option<UserRecord>>;

    /// [`Self::view`] of the user whose identity-provider subject is
    /// `subject`, in one round trip: how a request signs in and answers.
    async fn view_by_subject(&self, subject: &str, query: ViewQuery) -> anyhow::Result<Option<UserRecord>>;

    /// Applies a user's own profile change in one statement and returns the
    /// updated row; `None` if the user is gone.
    async fn change_profile(
        &self,
        id: UserId,
        change: &ProfileChange,
        now: OffsetDateTime,
    ) -> anyhow::Result<Option<User>>;

    /// In ONE transaction: marks the still-`issued` upload ticket used and
    /// sets the avatar to `url` (object `key`). Returns the previous avatar's
    /// key so the caller deletes it after the commit. MUST fail with
    /// `TicketUsed` (writing nothing) when the ticket is no longer issued.
    async fn set_avatar(
        &self,
        id: UserId,
        ticket: TicketId,
        key: &ObjectKey,
        url: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ObjectKey>, SetAvatarError>;

    /// Clears the avatar; returns the removed object's key (`Ok(None)` if
    /// there was none). `UserGone` if the user does not exist.
    async fn clear_avatar(&self, id: UserId, now: OffsetDateTime) -> Result<Option<ObjectKey>, SetAvatarError>;

    /// Every user whose e-mail is `email` (e-mails are not unique), oldest first.
    async fn find_by_email(&self, email: &EmailAddress) -> anyhow::Result<Vec<User>>;

    /// Applies a superuser's change in one statement and returns the user.
    /// MUST return `DiscordIdTaken` / `UsernameTaken` (writing nothing) when
    /// another user holds the value, `NotFound` when the user is gone, and
    /// `LastSuperuser` (writing nothing) when the change would demote the
    /// only superuser left — decided under a lock, so two superusers demoting
    /// each other at once cannot both succeed. A changed platform role
    /// writes its `user.platform_role_changed` by `by`
    /// ([`admin_updated`](crate::events::admin_updated)) in the same transaction.
    async fn admin_update(
        &self,
        id: UserId,
        update: &AdminUserUpdate,
        now: OffsetDateTime,
        by: Option<UserId>,
    ) -> Result<User, AdminUserError>;

    /// Users whose e-mail, username or display name contains `query`
    /// (case-insensitive; every user when `None`), oldest first, keyset-paged.
    async fn search(&self, query: Option<String>, page: &PageRequest<UserId>) -> anyhow::Result<Page<User>>;

    /// The user with this id.
    async fn find(&self, id: UserId) -> anyhow::Result<Option<User>>;

    /// The users with these ids, each once and in any order (an id without
    /// a user is left out), in as few reads as the store allows: an audit names thousands.
    async fn find_many(&self, ids: &[UserId]) -> anyhow::Result<Vec<User>>;

    /// In ONE transaction: unless the user was already erased (then
    /// `Already` with that record, writing nothing), replaces the row's
    /// personal data by `erasure`'s pseudonym (subject, e-mail unverified,
    /// username, display name; names, avatar, Discord id, status, current
    /// organization cleared; platform role `user`) and records who erased
    /// them when. Returns the avatar object the row held.
    async fn erase(&self, erasure: &Erasure) -> anyhow::Result<Erased>;
}
