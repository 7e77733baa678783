//! The persistence port of the user aggregate.

use crate::error::CreateUserError;
use crate::model::{DisplayName, IdentityRefresh, ManualStatus, NewUser, User, UserView};
use async_trait::async_trait;
use shared_kernel::{EmailAddress, UserId};
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

    /// Inserts a user. MUST return `SubjectTaken` when a user with the same
    /// subject exists and `UsernameTaken` when the username is taken, leaving
    /// nothing written in either case.
    async fn create(&self, new: &NewUser) -> Result<User, CreateUserError>;

    /// Stores the identity provider's current e-mail, verification flag and
    /// names for `id`; returns the updated user, or `None` if it is gone.
    async fn refresh_identity(
        &self,
        id: UserId,
        refresh: &IdentityRefresh,
        now: OffsetDateTime,
    ) -> anyhow::Result<Option<User>>;

    /// Everything the User DTO needs, in one round trip. `None` if the user is gone.
    /// `avatar_upload_tries_remaining` is left for the service to fill in.
    async fn view(&self, id: UserId) -> anyhow::Result<Option<UserView>>;

    /// Sets the display name and returns the updated view.
    async fn update_display_name(
        &self,
        id: UserId,
        name: &DisplayName,
        now: OffsetDateTime,
    ) -> anyhow::Result<Option<UserView>>;

    /// Sets (or clears) the manual status and returns the updated view.
    async fn set_manual_status(
        &self,
        id: UserId,
        status: Option<ManualStatus>,
        now: OffsetDateTime,
    ) -> anyhow::Result<Option<UserView>>;

    /// Makes every user with this e-mail a superuser; returns how many rows changed.
    async fn promote_by_email(
        &self,
        email: &EmailAddress,
        now: OffsetDateTime,
    ) -> anyhow::Result<u64>;
}
