//! Personal-data rights (GDPR articles 15, 17 and 20): the export of
//! everything Usher holds about the caller, and a superuser's erasure of a
//! user on their request. Application services spanning the user, profile,
//! photo and invitation domains, so they live in the app (the dependency
//! rule keeps domain crates apart); every rule they apply is a domain's.

use crate::error::ApiError;
use crate::state::AppState;
use photo_verification::{StatusFilter, VerificationWithUser};
use shared_kernel::{Actor, CursorKey, PageRequest, UserId};
use users::{ErasureRecord, UserView};

/// Everything held about one user, as the domains return it.
#[derive(Debug)]
pub struct Export {
    /// The user record with memberships.
    pub user: UserView,
    /// Profiles with their decisions (notes removed).
    pub profiles: profile_verification::MyProfiles,
    /// Labels.
    pub labels: Vec<profile_verification::Label>,
    /// Photo verifications, newest first.
    pub photos: Vec<VerificationWithUser>,
    /// Pending invitations addressed to the user.
    pub invitations: Vec<(organizations::Invitation, organizations::Organization)>,
}

/// Collects the caller's export.
pub async fn export(state: &AppState, actor: &Actor) -> Result<Export, ApiError> {
    let user = state.users.current(actor).await?;
    let profiles = state.profiles.mine(actor).await?;
    let labels = state.profiles.my_labels(actor).await?;
    let photos = all_pages(|page| async move {
        state.photos.list_for_user(actor, actor.user_id, StatusFilter::All, &page).await.map_err(ApiError::from)
    })
    .await?;
    let invitations =
        all_pages(|page| async move { state.invitations.mine(actor, &page).await.map_err(ApiError::from) }).await?;
    Ok(Export { user, profiles, labels, photos, invitations })
}

/// Every item of a keyset-paged list, 100 at a time.
async fn all_pages<K, T, F, Fut>(mut next: F) -> Result<Vec<T>, ApiError>
where
    K: CursorKey,
    F: FnMut(PageRequest<K>) -> Fut,
    Fut: Future<Output = Result<shared_kernel::Page<T>, ApiError>>,
{
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = PageRequest::parse(Some(100), cursor.as_deref()).map_err(|e| ApiError::unexpected(e.into()))?;
        let found = next(page).await?;
        items.extend(found.items);
        match found.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(items),
        }
    }
}

/// What an erasure did.
#[derive(Debug)]
pub struct Erasure {
    /// Who erased the user, and when (the first erasure's, when repeated).
    pub record: ErasureRecord,
    /// Whether this request found the user already erased.
    pub already: bool,
    /// Photo verifications whose objects were deleted.
    pub photos: usize,
}

/// A superuser erases `user` on their request: the user record is
/// pseudonymised (and recorded), the profile data key destroyed, the
/// avatar and every photo object deleted. Idempotent: a repeated or
/// interrupted erasure finishes the work and answers the first record.
pub async fn erase(state: &AppState, admin: &Actor, user: UserId) -> Result<Erasure, ApiError> {
    let erased = state.users.erase(admin, user).await?;
    let already = matches!(erased, users::Erased::Already(_));
    if let users::Erased::Now { avatar: Some(key), .. } = &erased {
        state.store.delete(key).await?;
    }
    state.profiles.shred(admin, user).await?;
    let photos = state.photos.erase_photos_of(admin, user).await?;
    Ok(Erasure { record: erased.record().clone(), already, photos })
}
