//! Sending invitation e-mails from the outbox.

use super::InvitationService;
use crate::model::{Delivery, MailDecision, OutboxMail, SEND_LEASE};

impl InvitationService {
    /// Sends due outbox mails; how many were handed to the mail server.
    /// Each claim re-reads the invitation in the claiming transaction, and a
    /// revoked, rejected, expired or used-up invitation's mail is closed
    /// unsent. A failed send is retried with exponential backoff and given
    /// up after `MAX_SEND_ATTEMPTS`; a notifier that deliberately does not
    /// send (the log-only one) closes the mail as not sent, never counting
    /// it. Claims are compare-and-set, so replicas never send twice.
    pub async fn drain_outbox(&self, limit: u32) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let mut sent = 0;
        for due in self.invitations.due_mails(now, limit).await? {
            let Some(invitation) = self.invitations.claim_mail(&due, now + SEND_LEASE).await? else { continue };
            if let MailDecision::Cancel(reason) = due.decide(invitation.as_ref(), now) {
                self.invitations.mail_closed(due.id, &format!("cancelled: {reason}"), self.clock.now()).await?;
                continue;
            }
            match self.notifier.send_invitation(&due.mail).await {
                Ok(Delivery::Sent) => {
                    self.invitations.mail_sent(due.id, self.clock.now()).await?;
                    sent += 1;
                }
                Ok(Delivery::NotSent(reason)) => {
                    self.invitations.mail_closed(due.id, &reason, self.clock.now()).await?
                }
                Err(e) => {
                    let attempts = due.attempts + 1;
                    let retry_at = OutboxMail::retry_at(attempts, self.clock.now());
                    tracing::warn!(invitation = %due.invitation_id, attempts, error = %e,
                        "sending an invitation e-mail failed");
                    self.invitations
                        .mail_failed(due.id, attempts, retry_at, &format!("{e:#}"), self.clock.now())
                        .await?;
                }
            }
        }
        Ok(sent)
    }
}
