//! The avatar upload when photo verification is on: an application service
//! spanning the user, image-upload and photo-sync domains, so it lives in the
//! app (the dependency rule keeps domain crates apart).
//!
//! - Ticket: with `photo_verification.require_discord`, a user without a
//!   linked Discord id is refused (403 `photo.discord_not_linked`) before a
//!   try is consumed; so is a user whose last photo was rejected as final
//!   (403 `photo.rejected_final`).
//! - Finalize: the upload is checked and copied to its final key as usual,
//!   its bytes are read once (≤ the avatar size limit) to compute the SHA-256
//!   the approval is tied to, and a PENDING verification is opened in the
//!   same transaction that uses the ticket (superseding a pending one). The
//!   live avatar does not change.

use crate::error::ApiError;
use crate::startup::AppState;
use image_upload::{IssuedTicket, ObjectKey, Visibility};
use photo_sync::{NewVerification, PhotoVerification};
use sha2::{Digest as _, Sha256};
use shared_kernel::Actor;

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

fn discord_not_linked() -> ApiError {
    ApiError::forbidden(
        "photo.discord_not_linked",
        "link your Discord account before changing your photo: new photos are reviewed against your Discord avatar",
    )
}

/// Step 1 of the avatar upload, with the Discord-link rule when the feature is on.
pub async fn ticket(state: &AppState, actor: &Actor, content_type: &str) -> Result<IssuedTicket, ApiError> {
    if state.photo_flow.enabled && state.photo_flow.require_discord {
        let view = state.users.current(actor).await?;
        if view.user.discord_id.is_none() {
            return Err(discord_not_linked());
        }
    }
    if state.photo_flow.enabled {
        state.photos.may_open(actor.user_id).await?;
    }
    Ok(state.avatars.ticket(actor, content_type).await?)
}

/// Step 3 of the avatar upload: applies it (feature off) or opens a verification (feature on).
pub async fn finalize(state: &AppState, actor: &Actor, tmp_key: &str) -> Result<Finalized, ApiError> {
    if !state.photo_flow.enabled {
        let avatar_url = state.avatars.finalize(actor, tmp_key).await?;
        return Ok(Finalized::Applied { avatar_url });
    }
    // Unreviewed, the photo stays private: only its owner and superusers see it, through signed URLs.
    let upload = state.avatars.verify(actor, tmp_key, Visibility::Private).await?;
    // From here on the final copy exists; every refusal deletes it again.
    let view = match state.users.current(actor).await {
        Ok(view) => view,
        Err(e) => return Err(discard(state, &upload.key, e.into()).await),
    };
    if state.photo_flow.require_discord && view.user.discord_id.is_none() {
        return Err(discard(state, &upload.key, discord_not_linked()).await);
    }
    // One read of the whole object: `verify` already bounded its size by the avatar policy.
    let bytes = match state.store.read_range(&upload.key, 0..upload.size).await {
        Ok(bytes) => bytes,
        Err(e) => return Err(discard(state, &upload.key, e.into()).await),
    };
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let new = NewVerification {
        user_id: actor.user_id,
        discord_id: view.user.discord_id.clone(),
        current_profile_url: view.user.avatar_url.clone(),
        url: upload.url.clone(),
        object_key: upload.key.clone(),
        sha256,
        discord: None,
    };
    // `open` deletes the copy itself when the ticket race is lost.
    let opened = state.photos.open(upload.ticket.id, new).await?;
    state.avatars.used(&upload).await;
    Ok(Finalized::Pending { avatar_url: view.user.avatar_url, verification: Box::new(opened.verification) })
}

/// Deletes a finalized copy that will not be used, and passes the error on.
async fn discard(state: &AppState, key: &ObjectKey, error: ApiError) -> ApiError {
    // A leftover object costs storage, not correctness.
    let _ = state.store.delete(key).await;
    error
}
