//! Typed errors of the Discord port and the use cases. The transitions'
//! own refusal, [`DecisionError`], lives with them in the model (so the
//! model depends on nothing but the kernel) and is re-exported here.

pub use crate::model::DecisionError;
use crate::model::PhotoVerification;

/// The Discord API could not give an avatar.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscordError {
    /// The id is not a snowflake (422 `discord.invalid_id`).
    #[error("not a Discord id")]
    InvalidId,
    /// No bot token is configured (503 `discord.not_configured`).
    #[error("the Discord integration is not configured")]
    NotConfigured,
    /// Discord has no such user (404 `discord.user_not_found`).
    #[error("Discord has no user with this id")]
    UserNotFound,
    /// Discord refused the bot token (502 `discord.unauthorized`).
    #[error("Discord refused the bot token")]
    Unauthorized,
    /// Discord asked us to wait longer than we are willing to (503 `discord.rate_limited`).
    #[error("Discord is rate limiting us; retry in {retry_after_seconds} s")]
    RateLimited {
        /// Seconds Discord asked us to wait.
        retry_after_seconds: u64,
    },
    /// Discord failed or could not be reached after the retries (502 `discord.unavailable`).
    #[error("Discord could not be reached")]
    Unavailable(#[source] anyhow::Error),
}

/// Opening a verification failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The upload ticket was used by a concurrent request.
    #[error("this upload ticket was already used")]
    TicketUsed,
    /// The user no longer exists.
    #[error("the user no longer exists")]
    UserGone,
    /// The user's last photo was rejected as final: no new one is reviewed (403 `photo.rejected_final`).
    #[error("your last photo was rejected and may not be replaced; contact an administrator")]
    RejectedFinal,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A review use case failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// No verification with this id (404 `photo.not_found`).
    #[error("no photo verification with this id")]
    NotFound,
    /// The Discord user has no PENDING verification (404 `photo.no_pending_verification`).
    #[error("no pending photo verification for this Discord user")]
    NoPendingVerification,
    /// Only the user themself or a superuser may see their verifications (403 `picture.forbidden`).
    #[error("you may only see your own photo verifications")]
    PictureForbidden,
    /// The rules refused the transition.
    #[error(transparent)]
    Decision(#[from] DecisionError),
    /// The verification is already decided (409 `photo.already_decided`, with the current record).
    #[error("this verification is already {}", .0.status)]
    AlreadyDecided(Box<PhotoVerification>),
    /// Another decision changed the record first (409 `photo.conflict`, with the current record).
    #[error("another reviewer changed this verification first")]
    Conflict(Box<PhotoVerification>),
    /// The Discord avatar could not be read.
    #[error(transparent)]
    Discord(#[from] DiscordError),
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}
