//! Announcing invitations whose expiry passed while they were pending.

use super::InvitationService;
use crate::error::WriteError;

impl InvitationService {
    /// Announces up to `limit` invitations whose expiry passed, each once
    /// per expiry with `invitation.expired`; how many. Idempotent and safe on
    /// several replicas: each announcement is a compare-and-set.
    pub async fn announce_expiries(&self, limit: u32) -> anyhow::Result<u64> {
        let now = self.clock.now();
        let mut announced = 0;
        for invitation in self.invitations.unannounced_expiries(now, limit).await? {
            let Some(expiry) = invitation.expiry(now) else { continue };
            match self.invitations.announce_expiry(&expiry).await {
                Ok(true) => announced += 1,
                // Another replica announced it, or a resend or revoke came first.
                Ok(false) | Err(WriteError::Conflict) => {}
                Err(e) => return Err(anyhow::Error::new(e).context("announcing an expired invitation")),
            }
        }
        Ok(announced)
    }
}
