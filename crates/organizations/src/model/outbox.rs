//! Invitation e-mails: what one says, when it is sent, cancelled or retried.
//! They are written to an outbox in the invitation's transaction and sent
//! by a background job, so a failed send never loses the invitation.

use super::{Invitation, InvitationId, InvitationState, OutboxId};
use shared_kernel::{EmailAddress, OrgRole};
use time::{Duration, OffsetDateTime};

/// Sends of one invitation e-mail before the outbox gives up on it.
pub const MAX_SEND_ATTEMPTS: u32 = 12;

/// How long a claimed mail is reserved for its sender: a crashed sender's claim lapses after it.
pub const SEND_LEASE: Duration = Duration::minutes(5);

/// An invitation e-mail. It carries no secret: the link opens the
/// dashboard, where the signed-in invitee (whose verified e-mail is the
/// bound one) accepts by invitation id. Tokens are never stored, so an
/// outbox row that outlives the request cannot leak one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationMail {
    /// The recipient.
    pub to: EmailAddress,
    /// The organization's name.
    pub organization: String,
    /// Who invited.
    pub invited_by: String,
    /// The role offered.
    pub role: OrgRole,
    /// The link into the host's UI (see `InvitationLinks`).
    pub link: String,
    /// When the invitation expires.
    pub expires_at: OffsetDateTime,
}

/// An outbox row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMail {
    /// Row id.
    pub id: OutboxId,
    /// The invitation it announces.
    pub invitation_id: InvitationId,
    /// The mail.
    pub mail: InvitationMail,
    /// Failed sends so far.
    pub attempts: u32,
    /// Not sent before this instant.
    pub next_attempt_at: OffsetDateTime,
}

/// What the outbox does with a claimed mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailDecision {
    /// Send it.
    Send,
    /// Never send it: the invitation is gone, or no longer pending.
    Cancel(&'static str),
}

/// What a notifier did with a mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Handed to the mail server.
    Sent,
    /// Deliberately not sent (the log-only notifier); never retried.
    NotSent(String),
}

impl OutboxMail {
    /// A mail announcing `invitation` to its bound e-mail, due at `now`.
    pub fn announcing(
        invitation: &Invitation,
        organization: String,
        invited_by: String,
        link: String,
        now: OffsetDateTime,
    ) -> Option<Self> {
        let to = invitation.email.clone()?;
        Some(Self {
            id: OutboxId::new(),
            invitation_id: invitation.id,
            mail: InvitationMail {
                to,
                organization,
                invited_by,
                role: invitation.role,
                link,
                expires_at: invitation.expires_at,
            },
            attempts: 0,
            next_attempt_at: now,
        })
    }

    /// Whether to send it now that the invitation reads as `invitation`
    /// (re-read in the claiming transaction): only while it is pending.
    pub fn decide(&self, invitation: Option<&Invitation>, now: OffsetDateTime) -> MailDecision {
        match invitation.map(|i| i.state(now)) {
            Some(InvitationState::Pending) => MailDecision::Send,
            None => MailDecision::Cancel("the invitation no longer exists"),
            Some(InvitationState::Revoked) => MailDecision::Cancel("the invitation was revoked"),
            Some(InvitationState::Rejected) => MailDecision::Cancel("the invitation was rejected"),
            Some(InvitationState::Expired) => MailDecision::Cancel("the invitation expired"),
            Some(InvitationState::Accepted) => MailDecision::Cancel("the invitation was already accepted"),
        }
    }

    /// After failed send number `attempts`: when to try again (30 s
    /// doubling, at most an hour apart), or `None` to give up.
    pub fn retry_at(attempts: u32, now: OffsetDateTime) -> Option<OffsetDateTime> {
        (attempts < MAX_SEND_ATTEMPTS).then(|| now + backoff(attempts))
    }
}

/// The wait before retry `attempts + 1`: 30 s doubling, at most an hour.
fn backoff(attempts: u32) -> Duration {
    Duration::seconds(30_i64.saturating_mul(1_i64 << attempts.min(7)).min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour_then_gives_up() {
        let now = time::macros::datetime!(2026-06-14 10:00 UTC);
        assert_eq!(OutboxMail::retry_at(3, now), Some(now + Duration::seconds(240)));
        assert_eq!(backoff(20), Duration::hours(1));
        assert_eq!(OutboxMail::retry_at(MAX_SEND_ATTEMPTS, now), None);
    }
}
