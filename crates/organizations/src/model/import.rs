//! Legacy membership imports (FiO "Case 1"): what to do with one line.
//!
//! Only a verified e-mail is trusted with a role (e-mail addresses are not
//! unique across accounts and unverified ones are claims): exactly one
//! account with the line's e-mail verified joins at once; otherwise the
//! line becomes a pending invitation bound to the e-mail, applied when
//! exactly one account has that e-mail verified (its first verified sign-in)
//! and never once the invitation is revoked or has expired.

use super::{Invitation, InvitationId, InvitationKind, InvitationOrigin, InvitationStatus, OrganizationId, TokenHash};
use shared_kernel::{EmailAddress, OrgRole, UserId};
use time::{Duration, OffsetDateTime};

/// How long an imported invitation waits for its invitee's first sign-in.
pub const IMPORT_VALIDITY: Duration = Duration::days(30);

/// One line of a membership import, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportLine {
    /// The organization: its id, slug or exact name.
    pub organization: String,
    /// The member's e-mail.
    pub email: EmailAddress,
    /// The role to grant.
    pub role: OrgRole,
    /// When they joined in the legacy system.
    pub joined_at: OffsetDateTime,
}

/// An account that has the line's e-mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Account {
    /// The user.
    pub user_id: UserId,
    /// Whether the identity provider verified the e-mail.
    pub email_verified: bool,
}

/// What importing one line does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportDecision {
    /// The one verified account joins now.
    Join(UserId),
    /// A pending invitation bound to the e-mail; see [`Pending`].
    Invite(Pending),
    /// The one verified account is already a member: nothing changes but
    /// the record that the line was imported, so a later run leaves it be.
    AlreadyMember(UserId),
    /// Imported before: nothing changes.
    Unchanged,
}

/// Why a line waits as an invitation instead of joining.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pending {
    /// No account has the e-mail yet.
    NoAccount,
    /// These accounts have it, none verified.
    Unverified(Vec<UserId>),
    /// Several accounts have it verified; the first of them to accept the
    /// invitation (from their list of invitations) gets it.
    Ambiguous(Vec<UserId>),
}

/// Decides one line: `imported` says whether this organization and e-mail
/// were imported before; `accounts` are the users with the e-mail;
/// `member` whether the one verified account already holds a membership
/// granting access now.
pub fn decide_import(imported: bool, accounts: &[Account], member: impl Fn(UserId) -> bool) -> ImportDecision {
    if imported {
        return ImportDecision::Unchanged;
    }
    let verified: Vec<UserId> = accounts.iter().filter(|a| a.email_verified).map(|a| a.user_id).collect();
    match verified.as_slice() {
        [one] if member(*one) => ImportDecision::AlreadyMember(*one),
        [one] => ImportDecision::Join(*one),
        [] if accounts.is_empty() => ImportDecision::Invite(Pending::NoAccount),
        [] => ImportDecision::Invite(Pending::Unverified(accounts.iter().map(|a| a.user_id).collect())),
        many => ImportDecision::Invite(Pending::Ambiguous(many.to_vec())),
    }
}

/// The one account an imported invitation applies to, once it is due:
/// exactly one verified account with its e-mail.
pub fn import_applies_to(accounts: &[Account]) -> Option<UserId> {
    match accounts.iter().filter(|a| a.email_verified).collect::<Vec<_>>().as_slice() {
        [one] => Some(one.user_id),
        _ => None,
    }
}

impl ImportLine {
    /// The invitation that carries this line: bound to its e-mail, single
    /// use, granted by the organization (created by its creator `creator`),
    /// whose token is never shown.
    pub fn invitation(
        &self,
        organization: OrganizationId,
        creator: UserId,
        token_hash: TokenHash,
        now: OffsetDateTime,
    ) -> Invitation {
        Invitation {
            id: InvitationId::new(),
            organization_id: organization,
            zone_id: None,
            role: self.role,
            email: Some(self.email.clone()),
            user_id: None,
            kind: InvitationKind::Internal,
            origin: InvitationOrigin::Import,
            max_uses: 1,
            use_count: 0,
            expires_at: now + IMPORT_VALIDITY,
            valid_for: IMPORT_VALIDITY,
            membership_duration: None,
            status: InvitationStatus::Pending,
            token_hash,
            created_by: creator,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }
}

/// A pending import whose invitee may have signed in since.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueImport {
    /// The line (its organization field holds the organization's id).
    pub line: ImportLine,
    /// The organization.
    pub organization_id: OrganizationId,
    /// Its invitation.
    pub invitation: Invitation,
    /// The accounts with its e-mail.
    pub accounts: Vec<Account>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: i64, verified: bool) -> Account {
        Account { user_id: UserId::new(id), email_verified: verified }
    }

    #[test]
    fn only_a_single_verified_account_joins() {
        let none = |_| false;
        assert_eq!(decide_import(false, &[account(1, true)], none), ImportDecision::Join(UserId::new(1)));
        assert_eq!(
            decide_import(false, &[account(1, false)], none),
            ImportDecision::Invite(Pending::Unverified(vec![UserId::new(1)]))
        );
        assert_eq!(
            decide_import(false, &[account(1, false), account(2, true)], none),
            ImportDecision::Join(UserId::new(2))
        );
        assert_eq!(
            decide_import(false, &[account(1, true), account(2, true)], none),
            ImportDecision::Invite(Pending::Ambiguous(vec![UserId::new(1), UserId::new(2)]))
        );
        assert_eq!(decide_import(false, &[], none), ImportDecision::Invite(Pending::NoAccount));
        assert_eq!(decide_import(true, &[account(1, true)], none), ImportDecision::Unchanged);
        assert_eq!(decide_import(false, &[account(1, true)], |_| true), ImportDecision::AlreadyMember(UserId::new(1)));
    }

    #[test]
    fn an_import_applies_to_exactly_one_verified_account() {
        assert_eq!(import_applies_to(&[account(1, false)]), None);
        assert_eq!(import_applies_to(&[account(1, false), account(2, true)]), Some(UserId::new(2)));
        assert_eq!(import_applies_to(&[account(1, true), account(2, true)]), None);
    }
}
