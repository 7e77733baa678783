//! Typed errors of the user use cases. The app maps each variant to a
//! problem+json code in one place.

/// Signing in (and provisioning) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignInError {
    /// A user must be created but the token carries no usable `email` claim.
    #[error("the token has no usable `email` claim, which a new user needs")]
    EmailMissing,
    /// The subject's account was erased on request (403 `auth.account_erased`):
    /// signing up again takes a new account at the identity provider.
    #[error("this account was erased on request; it cannot be signed in to again")]
    Erased,
    /// The user was deleted while the request was signing in.
    #[error("the user no longer exists")]
    Gone,
    /// Anything else, including an unavailable database.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A use case on the signed-in user failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserError {
    /// The user was deleted after the request was authenticated.
    #[error("the user no longer exists")]
    NotFound,
    /// Anything else, including an unavailable database.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Creating a user row failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateUserError {
    /// Another request created a user for the same subject first.
    #[error("a user with this subject already exists")]
    SubjectTaken,
    /// The username is taken; try another.
    #[error("the username is taken")]
    UsernameTaken,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Setting or clearing the avatar failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetAvatarError {
    /// The upload ticket was used (or rejected) by a concurrent request.
    #[error("this upload ticket was already used")]
    TicketUsed,
    /// The user no longer exists.
    #[error("the user no longer exists")]
    UserGone,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// An avatar use case failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AvatarError {
    /// The ticket could not be issued.
    #[error(transparent)]
    Ticket(#[from] image_upload::TicketError),
    /// The upload did not pass finalize's checks.
    #[error(transparent)]
    Finalize(#[from] image_upload::FinalizeError),
    /// The user no longer exists.
    #[error("the user no longer exists")]
    UserGone,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<SetAvatarError> for AvatarError {
    fn from(e: SetAvatarError) -> Self {
        match e {
            SetAvatarError::TicketUsed => Self::Finalize(image_upload::FinalizeError::TicketUsed),
            SetAvatarError::UserGone => Self::UserGone,
            SetAvatarError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

/// A superuser's user administration failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminUserError {
    /// Only superusers administer users (403 `auth.superuser_required`).
    #[error("only a superuser may administer users")]
    Forbidden,
    /// No such user (404 `user.not_found`).
    #[error("no user with this id")]
    NotFound,
    /// Another user has this Discord id linked (409 `user.discord_id_taken`).
    #[error("this Discord id is linked to another user")]
    DiscordIdTaken,
    /// Another user has this username (409 `user.username_taken`).
    #[error("this username is taken")]
    UsernameTaken,
    /// Demoting this user would leave no superuser (409 `admin.last_superuser`).
    #[error("this is the last superuser; promote another user before demoting this one")]
    LastSuperuser,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}
