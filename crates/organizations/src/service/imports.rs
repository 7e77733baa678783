//! Legacy membership imports (FiO "Case 1") and applying them when their
//! invitee signs in. The decisions are [`crate::model::decide_import`] and
//! the accept rules; this module loads and writes.

use super::InvitationService;
use crate::model::{
    AcceptContext, AcceptVia, Acceptance, ClientInfo, Grantor, ImportDecision, ImportLine, Organization, Outcome,
    Pending, Refusal, import_applies_to,
};
use crate::ports::TokenGenerator;
use shared_kernel::UserId;

/// What importing one line did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// The one account with this e-mail verified got an active membership (history cause `import`).
    Joined(UserId),
    /// A pending invitation bound to the e-mail, applied when exactly one
    /// account has it verified; the reason says why it did not join now.
    Invited(Pending),
    /// Imported before (or the verified account already is a member): nothing changed.
    Unchanged,
    /// The one verified account may not join (for example: blocked); nothing was recorded.
    Refused(Refusal),
    /// No organization has this id, slug or name.
    UnknownOrganization,
}

/// One line's outcome, with the organization it resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportReport {
    /// The organization, when it was found.
    pub organization: Option<Organization>,
    /// What happened.
    pub outcome: ImportOutcome,
}

impl InvitationService {
    /// Imports legacy memberships line by line; one report per line. Only a
    /// verified e-mail is trusted with a role.
    pub async fn import(&self, lines: &[ImportLine], tokens: &dyn TokenGenerator) -> anyhow::Result<Vec<ImportReport>> {
        let mut reports = Vec::with_capacity(lines.len());
        for line in lines {
            reports.push(self.import_line(line, tokens).await?);
        }
        Ok(reports)
    }

    async fn import_line(&self, line: &ImportLine, tokens: &dyn TokenGenerator) -> anyhow::Result<ImportReport> {
        let Some(org) = self.org_repo.find(&line.organization).await? else {
            return Ok(ImportReport { organization: None, outcome: ImportOutcome::UnknownOrganization });
        };
        let now = self.clock.now();
        let imported = self.invitations.imported(org.id, &line.email).await?;
        let accounts = self.org_repo.accounts_with_email(&line.email).await?;
        let verified = import_applies_to(&accounts);
        let existing = match verified {
            Some(user) => self.org_repo.active_membership(org.id, user).await?,
            None => None,
        };
        let member = |_| existing.as_ref().is_some_and(|m| m.grants(now).is_some());
        // The invitation's token is never shown: the invitee is admitted at sign-in, not by link.
        let invitation = line.invitation(org.id, org.created_by, tokens.generate()?.hash(), now);
        let report = |outcome| Ok(ImportReport { organization: Some(org.clone()), outcome });
        match crate::model::decide_import(imported, &accounts, member) {
            ImportDecision::Unchanged => report(ImportOutcome::Unchanged),
            ImportDecision::AlreadyMember(_) => {
                self.invitations.record_import(line, org.id, None, None, now).await?;
                report(ImportOutcome::Unchanged)
            }
            ImportDecision::Invite(pending) => {
                let recorded = self.invitations.record_import(line, org.id, Some(invitation), None, now).await?;
                report(if recorded { ImportOutcome::Invited(pending) } else { ImportOutcome::Unchanged })
            }
            ImportDecision::Join(user) => {
                let invitee = self
                    .org_repo
                    .invitee(user)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("user {user} vanished during an import"))?;
                let ctx = AcceptContext {
                    invitee: &invitee,
                    existing: existing.as_ref(),
                    grantor: &Grantor::Organization,
                    blocked: self.org_repo.is_blocked(org.id, user).await?,
                    client: &ClientInfo::default(),
                    via: AcceptVia::Import { joined_at: line.joined_at },
                    now,
                };
                match invitation.accept(&ctx) {
                    Err(refused) => report(ImportOutcome::Refused(refused.refusal)),
                    Ok(plan) => {
                        let recorded = self
                            .invitations
                            .record_import(line, org.id, Some(invitation.clone()), Some(plan), now)
                            .await?;
                        report(if recorded { ImportOutcome::Joined(user) } else { ImportOutcome::Unchanged })
                    }
                }
            }
        }
    }

    /// Applies imports whose invitee has since signed in with the e-mail
    /// verified (exactly one such account); how many joined. An import the
    /// accept rules refuse (its invitation expired, the account blocked) is
    /// settled with the refusal logged and never tried again; a revoked one
    /// is never picked up.
    pub async fn apply_imports(&self, limit: u32) -> anyhow::Result<u64> {
        let mut applied = 0;
        for due in self.invitations.due_imports(limit).await? {
            let Some(user) = import_applies_to(&due.accounts) else { continue };
            let Some(invitee) = self.org_repo.invitee(user).await? else { continue };
            let standing = self.org_repo.standing(due.organization_id, None, user).await?;
            let now = self.clock.now();
            let ctx = AcceptContext {
                invitee: &invitee,
                existing: standing.existing.as_ref(),
                grantor: &Grantor::Organization,
                blocked: standing.blocked,
                client: &ClientInfo::default(),
                via: AcceptVia::Import { joined_at: due.line.joined_at },
                now,
            };
            match due.invitation.accept(&ctx) {
                Ok(plan) => match self.invitations.apply_import(&due, &plan).await {
                    Ok(true) => applied += 1,
                    // Another replica applied it, or the invitation changed: the next run reads again.
                    Ok(false) | Err(crate::error::WriteError::Conflict) => {}
                    Err(e) => return Err(anyhow::Error::new(e).context("applying an import")),
                },
                Err(refused) => {
                    let log = Acceptance::new(
                        due.invitation.id,
                        Some(user),
                        Outcome::Failed,
                        Some(refused.refusal.reason()),
                        &ClientInfo::default(),
                        now,
                    );
                    self.invitations.settle_import(&due, &log).await?;
                }
            }
        }
        Ok(applied)
    }
}
