//! Erasing a user's personal data on request (GDPR article 17) while the
//! audit trail keeps its shape: the user row stays, under a pseudonym, so
//! decisions, memberships and logs still name the same id.
//!
//! The identity provider's subject is replaced by `erased:<SHA-256 of the
//! subject>`, so the erased person's tokens are recognised — and refused
//! ([`crate::SignInError::Erased`]) — instead of silently provisioning a new
//! account from the old subject.

use crate::model::{DisplayName, User, Username};
use image_upload::ObjectKey;
use sha2::{Digest as _, Sha256};
use shared_kernel::{Actor, EmailAddress, UserId};
use time::OffsetDateTime;

/// What an erased user's row becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erasure {
    /// The erased user.
    pub user_id: UserId,
    /// `erased:<SHA-256 of the old subject>`.
    pub subject: String,
    /// `erased-<id>-<tag>@erased.invalid` (unverified; the tag is the subject hash's head).
    pub email: EmailAddress,
    /// `erased-<id>-<tag>`.
    pub username: Username,
    /// `Erased user`.
    pub display_name: DisplayName,
    /// The superuser acting on the request.
    pub by: UserId,
    /// When.
    pub at: OffsetDateTime,
}

/// The record of an erasure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErasureRecord {
    /// The erased user (a pseudonymous id from then on).
    pub user_id: UserId,
    /// Who erased them (`None` once that superuser was erased too).
    pub by: Option<UserId>,
    /// When.
    pub at: OffsetDateTime,
}

/// What erasing did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Erased {
    /// The row was pseudonymised now; `avatar` is the object that held the avatar.
    Now {
        /// The record written.
        record: ErasureRecord,
        /// The avatar object to delete.
        avatar: Option<ObjectKey>,
    },
    /// An earlier erasure already did it (erasing is idempotent).
    Already(ErasureRecord),
}

impl Erased {
    /// The erasure's record, whichever request wrote it.
    pub fn record(&self) -> &ErasureRecord {
        match self {
            Self::Now { record, .. } | Self::Already(record) => record,
        }
    }
}

/// Why an erasure was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EraseError {
    /// Only superusers erase (403 `auth.superuser_required`).
    #[error("only superusers may erase a user")]
    Forbidden,
    /// A superuser does not erase their own account: another one does (403 `user.erase_own_account`).
    #[error("erase your own account through another superuser")]
    OwnAccount,
    /// No such user (404 `user.not_found`).
    #[error("the user does not exist")]
    NotFound,
    /// Anything else.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The pseudonymous subject an erased user's subject becomes.
pub fn erased_subject(subject: &str) -> String {
    format!("erased:{}", hex::encode(Sha256::digest(subject.as_bytes())))
}

impl Erasure {
    /// The erasure of `target` by `by` at `now`.
    pub fn of(target: &User, by: &Actor, now: OffsetDateTime) -> Result<Self, EraseError> {
        if !by.is_superuser() {
            return Err(EraseError::Forbidden);
        }
        if by.user_id == target.id {
            return Err(EraseError::OwnAccount);
        }
        let subject = erased_subject(&target.subject);
        // The hash's head keeps the pseudonym clear of any username a live
        // user could hold (`erased-7` is an ordinary, derivable username).
        let tag = &subject["erased:".len().."erased:".len() + 8];
        let handle = format!("erased-{}-{tag}", target.id);
        let invalid = |what: &str| anyhow::anyhow!("the pseudonymous {what} of user {} is invalid", target.id);
        Ok(Self {
            user_id: target.id,
            subject,
            email: EmailAddress::parse(&format!("{handle}@erased.invalid")).map_err(|_| invalid("e-mail"))?,
            username: Username::parse(&handle).map_err(|_| invalid("username"))?,
            display_name: DisplayName::parse("Erased user").map_err(|_| invalid("name"))?,
            by: by.user_id,
            at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_kernel::PlatformRole;

    #[test]
    fn the_subject_is_hashed_so_old_tokens_are_recognised_not_stored() {
        let a = erased_subject("idp|ada");
        assert_eq!(a, erased_subject("idp|ada"));
        assert_ne!(a, erased_subject("idp|bob"));
        assert!(a.starts_with("erased:") && !a.contains("ada") && a.len() == "erased:".len() + 64);
    }

    fn user(id: i64) -> User {
        let now = OffsetDateTime::UNIX_EPOCH;
        User {
            id: UserId::new(id),
            subject: "idp|ada".into(),
            email: EmailAddress::parse("ada@x.io").unwrap(),
            email_verified: true,
            first_name: Some("Ada".into()),
            last_name: None,
            display_name: DisplayName::parse("Ada").unwrap(),
            username: Username::parse("ada").unwrap(),
            avatar_url: None,
            current_organization_id: None,
            manual_status: None,
            integrations: crate::model::Integrations::default(),
            platform_role: PlatformRole::User,
            discord_id: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn only_another_superuser_erases() {
        let user = user(7);
        let su = Actor { user_id: UserId::new(1), role: PlatformRole::Superuser };
        let now = OffsetDateTime::UNIX_EPOCH;
        let e = Erasure::of(&user, &su, now).unwrap();
        let tag = &erased_subject("idp|ada")[7..15];
        assert_eq!(e.username.as_str(), format!("erased-7-{tag}"));
        assert_eq!(e.email.as_str(), format!("erased-7-{tag}@erased.invalid"));
        assert!(!e.email.as_str().contains("ada"));
        let plain = Actor { user_id: UserId::new(1), role: PlatformRole::User };
        assert!(matches!(Erasure::of(&user, &plain, now), Err(EraseError::Forbidden)));
        let own = Actor { user_id: UserId::new(7), role: PlatformRole::Superuser };
        assert!(matches!(Erasure::of(&user, &own, now), Err(EraseError::OwnAccount)));
    }
}
