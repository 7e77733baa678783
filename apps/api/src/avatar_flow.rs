//! The avatar upload: an application service spanning the user,
//! image-upload and photo-verification domains, so it lives in the app (the
//! dependency rule keeps domain crates apart). It holds only the services it
//! needs and answers with its own error, mapped to problem+json in
//! [`crate::error`].
//!
//! - Ticket: with `photo_verification.require_discord`, a user without a
//!   linked Discord id is refused (403 `photo.discord_not_linked`) before a
//!   try is consumed; so is a user whose last photo was rejected as final
//!   (403 `photo.rejected_final`).
//! - Finalize with photo verification off: the upload is checked and becomes
//!   the avatar at once.
//! - Finalize with it on: the upload is checked and copied to its final key
//!   (the check answers the SHA-256 of the bytes it checked, which the
//!   approval is tied to), and a PENDING verification is opened in the same
//!   transaction that uses the ticket (superseding a pending one). The live
//!   avatar does not change.

use image_upload::{IssuedTicket, VerifiedUpload, Visibility};
use photo_verification::{NewVerification, OpenError, PhotoVerification, PhotoVerificationService};
use shared_kernel::Actor;
use users::{AvatarError, AvatarService, UserError, UserService};

/// The photo verification switches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhotoFlowSettings {
    /// `features.photo_verification`.
    pub enabled: bool,
    /// `photo_verification.require_discord`.
    pub require_discord: bool,
}

/// What a finalize did.
#[derive(Debug)]
pub enum Finalized {
    /// The avatar changed at once (feature off).
    Applied {
        /// The new avatar URL.
        avatar_url: String,
    },
    /// A verification was opened; the avatar is unchanged.
    Pending {
        /// The avatar still live.
        avatar_url: Option<String>,
        /// The opened verification.
        verification: Box<PhotoVerification>,
    },
}

/// Why an avatar step was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AvatarFlowError {
    /// Photo verification requires a linked Discord account and the user has none.
    #[error(
        "link your Discord account before changing your photo: new photos are reviewed against your Discord avatar"
    )]
    DiscordNotLinked,
    /// Reading the user failed.
    #[error(transparent)]
    User(#[from] UserError),
    /// The upload was refused or failed.
    #[error(transparent)]
    Avatar(#[from] AvatarError),
    /// A verification may not be opened, or opening it failed.
    #[error(transparent)]
    Open(#[from] OpenError),
}

/// The avatar ticket and finalize, with photo verification when it is on.
#[derive(Clone)]
pub struct AvatarFlow {
    users: UserService,
    avatars: AvatarService,
    photos: PhotoVerificationService,
    settings: PhotoFlowSettings,
}

impl AvatarFlow {
    /// The flow over these services.
    pub fn new(
        users: UserService,
        avatars: AvatarService,
        photos: PhotoVerificationService,
        settings: PhotoFlowSettings,
    ) -> Self {
        Self { users, avatars, photos, settings }
    }

    /// Step 1 of the avatar upload, with the Discord-link rule when the feature is on.
    pub async fn ticket(&self, actor: &Actor, content_type: &str) -> Result<IssuedTicket, AvatarFlowError> {
        if self.settings.enabled && self.settings.require_discord {
            let view = self.users.current(actor).await?;
            if view.user.discord_id.is_none() {
                return Err(AvatarFlowError::DiscordNotLinked);
            }
        }
        if self.settings.enabled {
            self.photos.may_open(actor.user_id).await?;
        }
        Ok(self.avatars.ticket(actor, content_type).await?)
    }

    /// Step 3 of the avatar upload: applies it (feature off) or opens a verification (feature on).
    pub async fn finalize(&self, actor: &Actor, tmp_key: &str) -> Result<Finalized, AvatarFlowError> {
        if !self.settings.enabled {
            let avatar_url = self.avatars.finalize(actor, tmp_key).await?;
            return Ok(Finalized::Applied { avatar_url });
        }
        // Unreviewed, the photo stays private: only its owner and superusers see it, through signed URLs.
        let upload = self.avatars.verify(actor, tmp_key, Visibility::Private).await?;
        // From here on the final copy exists; every refusal deletes it again.
        let view = match self.users.current(actor).await {
            Ok(view) => view,
            Err(e) => return Err(self.discard(&upload, e.into()).await),
        };
        if self.settings.require_discord && view.user.discord_id.is_none() {
            return Err(self.discard(&upload, AvatarFlowError::DiscordNotLinked).await);
        }
        let new = NewVerification {
            user_id: actor.user_id,
            discord_id: view.user.discord_id.clone(),
            current_profile_url: view.user.avatar_url.clone(),
            url: upload.url.clone(),
            object_key: upload.key.clone(),
            sha256: upload.sha256.clone(),
            discord: None,
        };
        // `open` deletes the copy itself when the ticket race is lost.
        let opened = self.photos.open(upload.ticket.id, new).await?;
        self.avatars.used(&upload).await;
        Ok(Finalized::Pending { avatar_url: view.user.avatar_url, verification: Box::new(opened.verification) })
    }

    /// Deletes a finalized copy that will not be used, and passes the error on.
    async fn discard(&self, upload: &VerifiedUpload, error: AvatarFlowError) -> AvatarFlowError {
        self.avatars.unused(upload).await;
        error
    }
}
