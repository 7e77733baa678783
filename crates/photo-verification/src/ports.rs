//! The ports of photo verification.

use crate::error::{DiscordError, OpenError};
use crate::model::{DiscordAvatar, PhotoEvent, PhotoVerification, PhotoVerificationId, Transition, VerificationStatus};
use async_trait::async_trait;
use image_upload::{ObjectKey, TicketId};
use shared_kernel::{DiscordId, Page, PageRequest, UserId};
use time::OffsetDateTime;

/// Reads Discord avatars.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait DiscordAvatars: Send + Sync {
    /// The current avatar of `discord_id`. MUST return `NotConfigured`
    /// without I/O when no credentials are set, and MUST map Discord's
    /// statuses to the typed errors (never a raw HTTP error).
    async fn current_avatar(&self, discord_id: &DiscordId) -> Result<DiscordAvatar, DiscordError>;
}

/// A verification opened, and the one it superseded (whose image the caller deletes after the commit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The new PENDING verification.
    pub verification: PhotoVerification,
    /// The previously pending one, now SUPERSEDED.
    pub superseded: Option<PhotoVerification>,
}

/// The outcome of a compare-and-set save.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Saved {
    /// Written. For an ACCEPTED verification, the avatar object it replaced
    /// (for the caller to delete after the commit).
    Written {
        /// The previous avatar's object key.
        replaced_avatar: Option<ObjectKey>,
    },
    /// Another transition won: nothing was written; here is the current record.
    Conflict(Box<PhotoVerification>),
}

/// Which statuses a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    /// Only this status.
    Only(VerificationStatus),
    /// Every status (the history).
    All,
}

/// What a list is filtered by; every filter is applied in SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationFilter {
    /// Only this user's verifications.
    pub user_id: Option<UserId>,
    /// Only the verifications of the user with this username.
    pub username: Option<String>,
    /// Statuses shown.
    pub status: StatusFilter,
}

/// The user a reviewer sees next to a verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSummary {
    /// The user.
    pub id: UserId,
    /// Their username.
    pub username: String,
    /// Their display name.
    pub display_name: String,
    /// Their live avatar.
    pub avatar_url: Option<String>,
}

/// A verification with its user's summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationWithUser {
    /// The verification.
    pub verification: PhotoVerification,
    /// Its user.
    pub user: UserSummary,
}

/// Stores verifications and their event log.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PhotoVerificationRepository: Send + Sync {
    /// In ONE transaction: marks the still-`issued` `ticket` used (else
    /// `TicketUsed`, writing nothing), supersedes the user's PENDING
    /// verification if any (with [`PhotoVerification::supersede`]), inserts
    /// `opened.record` and appends every event. At most one PENDING per user
    /// MUST hold under concurrency (the database enforces it).
    async fn open(&self, ticket: TicketId, opened: &Transition, now: OffsetDateTime) -> Result<Opened, OpenError>;

    /// The verification with this id.
    async fn find(&self, id: PhotoVerificationId) -> anyhow::Result<Option<PhotoVerification>>;

    /// The user's most recently decided verification (accepted or rejected), if any.
    async fn last_decided(&self, user: UserId) -> anyhow::Result<Option<PhotoVerification>>;

    /// Up to `limit` PENDING verifications linked to a Discord id whose
    /// Discord avatar was never read, oldest first.
    async fn unread_discord(&self, limit: u32) -> anyhow::Result<Vec<PhotoVerification>>;

    /// The PENDING verification of the user linked to `discord_id`.
    async fn pending_for_discord(&self, discord_id: &DiscordId) -> anyhow::Result<Option<PhotoVerification>>;

    /// Writes `transition.record` only if the stored version is still
    /// `expected_version`, and appends its events, in ONE transaction. When
    /// the record is ACCEPTED, the user's avatar becomes its profile image in
    /// the same transaction.
    async fn save(&self, expected_version: i64, transition: &Transition) -> anyhow::Result<Saved>;

    /// A page of verifications, newest first, with their users.
    async fn list(
        &self,
        filter: &VerificationFilter,
        page: &PageRequest<uuid::Uuid>,
    ) -> anyhow::Result<Page<VerificationWithUser>>;

    /// A verification's event log, oldest first.
    async fn events(&self, id: PhotoVerificationId) -> anyhow::Result<Vec<PhotoEvent>>;
}
