//! Accepting an invitation: by token (anyone holding it), or by id (only
//! the person it is addressed to; to anyone else an id answers exactly like
//! an unknown one and nothing is logged).

use super::{InvitationService, MAX_ATTEMPTS};
use crate::error::{AcceptError, WriteError};
use crate::model::{
    AcceptContext, AcceptVia, Cleanup, ClientInfo, Grantor, Invitation, InvitationId, InvitationToken, Invitee,
    Membership, Refused,
};
use shared_kernel::Actor;

impl InvitationService {
    /// Accepts by token.
    pub async fn accept_token(
        &self,
        actor: &Actor,
        token: &InvitationToken,
        client: &ClientInfo,
    ) -> Result<Membership, AcceptError> {
        let hash = token.hash();
        self.accept(actor, client, |_| async move { self.invitations.find_by_hash(&hash).await }).await
    }

    /// Accepts an invitation addressed to the caller, by id (open links need their token).
    pub async fn accept_id(
        &self,
        actor: &Actor,
        id: InvitationId,
        client: &ClientInfo,
    ) -> Result<Membership, AcceptError> {
        self.accept(actor, client, |invitee: Invitee| async move {
            let found = self.invitations.find(id).await?;
            Ok(found.filter(|i| i.names(invitee.user_id, &invitee.email)))
        })
        .await
    }

    async fn accept<F, Fut>(&self, actor: &Actor, client: &ClientInfo, load: F) -> Result<Membership, AcceptError>
    where
        F: Fn(Invitee) -> Fut,
        Fut: Future<Output = anyhow::Result<Option<Invitation>>>,
    {
        let invitee = self.org_repo.invitee(actor.user_id).await?.ok_or(AcceptError::UserGone)?;
        for _ in 0..MAX_ATTEMPTS {
            let invitation = load(invitee.clone()).await?.ok_or(AcceptError::NotFound)?;
            let org = invitation.organization_id;
            let standing = self.org_repo.standing(org, invitation.grantor_id(), actor.user_id).await?;
            let grantor = Grantor::of(&invitation, standing.grantor);
            let ctx = AcceptContext {
                invitee: &invitee,
                existing: standing.existing.as_ref(),
                grantor: &grantor,
                blocked: standing.blocked,
                client,
                via: AcceptVia::Invitation,
                now: self.clock.now(),
            };
            match invitation.accept(&ctx) {
                Err(refused) => return Err(self.refuse(*refused).await),
                Ok(plan) => match self.invitations.accept(&plan).await {
                    Ok(()) => return Ok(plan.membership.membership().clone()),
                    // Another accept, a revoke, or a change to the creator's
                    // membership won: read again and decide again.
                    Err(WriteError::Conflict) => continue,
                    // Blocked between the read and the write.
                    Err(WriteError::Blocked) => {
                        let refused = invitation.accept(&AcceptContext { blocked: true, ..ctx }).err();
                        return Err(match refused {
                            Some(r) => self.refuse(*r).await,
                            None => AcceptError::Conflict,
                        });
                    }
                    Err(e) => return Err(anyhow::Error::new(e).context("accepting an invitation").into()),
                },
            }
        }
        Err(AcceptError::Conflict)
    }

    /// Carries out a refusal's clean-up, logs the failed attempt, and
    /// returns the error to answer with.
    pub(super) async fn refuse(&self, refused: Refused) -> AcceptError {
        let result = async {
            match &refused.cleanup {
                // A conflict means the sweeper or another request did it first.
                Some(Cleanup::EndCreator(plan)) => match self.org_repo.apply(std::slice::from_ref(plan)).await {
                    Ok(()) | Err(WriteError::Conflict) => {}
                    Err(e) => return Err(anyhow::Error::new(e).context("ending a creator's lapsed membership")),
                },
                Some(Cleanup::Revoke(update)) => match self.invitations.update(update, None, None).await {
                    Ok(()) | Err(WriteError::Conflict) => {}
                    Err(e) => {
                        return Err(
                            anyhow::Error::new(e).context("revoking an invitation its creator may no longer grant")
                        );
                    }
                },
                None => {}
            }
            self.invitations.log(&refused.log, &refused.event).await
        }
        .await;
        match result {
            Ok(()) => AcceptError::Refused(refused.refusal),
            Err(e) => AcceptError::Unexpected(e),
        }
    }
}
