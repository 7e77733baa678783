//! The acceptance log: every attempt on an invitation, failed ones included (seed 004).

use super::{AcceptanceId, InvitationId};
use serde::{Deserialize, Serialize};
use shared_kernel::UserId;
use time::OffsetDateTime;

shared_kernel::stored_enum! {
    /// How an acceptance attempt ended.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Outcome {
        /// Access granted.
        Accepted = "accepted",
        /// The invitee rejected it.
        Declined = "declined",
        /// Refused; `reason` says why.
        Failed = "failed",
    }
}

/// One row of an invitation's acceptance log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acceptance {
    /// Its id.
    pub id: AcceptanceId,
    /// The invitation.
    pub invitation_id: InvitationId,
    /// Who tried.
    pub user_id: Option<UserId>,
    /// What happened.
    pub outcome: Outcome,
    /// Why it failed.
    pub reason: Option<String>,
    /// When.
    pub at: OffsetDateTime,
    /// The client address.
    pub ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
}

/// Where a request came from, for the acceptance log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client address.
    pub ip: Option<String>,
    /// The user agent (truncated to 512 bytes by the app).
    pub user_agent: Option<String>,
}

impl Acceptance {
    /// A log row for `invitation` at `now`.
    pub fn new(
        invitation_id: InvitationId,
        user_id: Option<UserId>,
        outcome: Outcome,
        reason: Option<&str>,
        client: &ClientInfo,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: AcceptanceId::new(),
            invitation_id,
            user_id,
            outcome,
            reason: reason.map(str::to_owned),
            at: now,
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
        }
    }
}
