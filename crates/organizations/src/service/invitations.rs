//! Invitations: create, list, mine, preview, reject, revoke, resend and the
//! acceptance log. Accepting is in `accept`, e-mails in `outbox`, legacy
//! imports in `imports`.

use super::{MAX_ATTEMPTS, OrganizationService};
use crate::error::{InvitationError, OrgError, WriteError};
use crate::model::{
    Acceptance, Authority, ClientInfo, Invitation, InvitationFilter, InvitationId, InvitationState, InvitationToken,
    InvitationUpdate, NewInvitation, Organization, OrganizationId, OutboxMail, Outcome, QuotaPolicy, Zone,
};
use crate::ports::{InvitationLinks, InvitationRepository, Notifier, OrganizationRepository, TokenGenerator};
use shared_kernel::{Actor, Clock, OrgRole, Page, PageRequest};
use std::sync::Arc;

/// A created (or resent) invitation with its one-time secret.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CreatedInvitation {
    /// The invitation.
    pub invitation: Invitation,
    /// The token, shown once.
    pub token: InvitationToken,
    /// The host's link carrying the token.
    pub url: String,
}

/// What the public preview shows.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Preview {
    /// The invitation.
    pub invitation: Invitation,
    /// Its organization.
    pub organization: Organization,
    /// Its zone.
    pub zone: Option<Zone>,
    /// The inviter's display name.
    pub invited_by: String,
    /// Its state now.
    pub state: InvitationState,
    /// Why it cannot be used, if it cannot.
    pub reason: Option<&'static str>,
}

/// The invitation use cases.
#[derive(Clone)]
pub struct InvitationService {
    pub(super) orgs: OrganizationService,
    pub(super) org_repo: Arc<dyn OrganizationRepository>,
    pub(super) invitations: Arc<dyn InvitationRepository>,
    pub(super) tokens: Arc<dyn TokenGenerator>,
    pub(super) notifier: Arc<dyn Notifier>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) links: Arc<dyn InvitationLinks>,
    pub(super) quotas: QuotaPolicy,
}

impl InvitationService {
    /// Builds the service; `links` are the host's.
    pub fn new(
        org_repo: Arc<dyn OrganizationRepository>,
        invitations: Arc<dyn InvitationRepository>,
        tokens: Arc<dyn TokenGenerator>,
        notifier: Arc<dyn Notifier>,
        clock: Arc<dyn Clock>,
        links: Arc<dyn InvitationLinks>,
        quotas: QuotaPolicy,
    ) -> Self {
        Self {
            orgs: OrganizationService::new(org_repo.clone(), clock.clone(), quotas.clone()),
            org_repo,
            invitations,
            tokens,
            notifier,
            clock,
            links,
            quotas,
        }
    }

    /// Creates an invitation (`org:moderator`; nobody grants above their own
    /// role or outside their zones; moderators grant only guest or member).
    pub async fn create(&self, actor: &Actor, new: NewInvitation) -> Result<CreatedInvitation, InvitationError> {
        if let Some(user) = new.user_id
            && self.org_repo.invitee(user).await?.is_none()
        {
            return Err(InvitationError::UnknownUser);
        }
        let zones: Vec<_> = self.org_repo.zones(new.organization_id).await?.into_iter().map(|z| z.id).collect();
        for _ in 0..MAX_ATTEMPTS {
            let authority = self.orgs.authority(actor, new.organization_id).await?;
            authority.require(OrgRole::Moderator)?;
            let token = self.tokens.generate()?;
            let draft = authority.invite(new.clone(), &zones, &token, &self.quotas)?;
            let mail = self.announcement(&authority, &draft.invitation).await?;
            match self.invitations.insert(&draft, mail).await {
                Ok(()) => {
                    return Ok(CreatedInvitation {
                        url: self.links.token_link(&token),
                        invitation: draft.invitation,
                        token,
                    });
                }
                // The creator's membership changed since it was read: decide again.
                Err(WriteError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(InvitationError::Conflict)
    }

    /// The outbox row announcing an e-mail-bound invitation (none for others).
    async fn announcement(&self, by: &Authority, invitation: &Invitation) -> anyhow::Result<Option<OutboxMail>> {
        if invitation.email.is_none() {
            return Ok(None);
        }
        let organization = self.org_repo.get(invitation.organization_id).await?.map(|o| o.name).unwrap_or_default();
        let invited_by = self.org_repo.display_name(by.membership().user_id).await?.unwrap_or_default();
        let link = self.links.invitation_link(invitation.id);
        Ok(OutboxMail::announcing(invitation, organization, invited_by, link, by.now()))
    }

    /// What a token grants, or why it cannot be used. Public; changes nothing.
    pub async fn preview(&self, token: &InvitationToken) -> Result<Preview, InvitationError> {
        let invitation = self.invitations.find_by_hash(&token.hash()).await?.ok_or(InvitationError::NotFound)?;
        let organization = self.org_repo.get(invitation.organization_id).await?.ok_or(InvitationError::NotFound)?;
        let zone = match invitation.zone_id {
            Some(id) => self.org_repo.zones(invitation.organization_id).await?.into_iter().find(|z| z.id == id),
            None => None,
        };
        let invited_by = self.org_repo.display_name(invitation.created_by).await?.unwrap_or_default();
        let now = self.clock.now();
        Ok(Preview {
            state: invitation.state(now),
            reason: invitation.unusable_reason(now),
            invitation,
            organization,
            zone,
            invited_by,
        })
    }

    /// Whom the pending e-mail-bound invitation `id` is for, masked
    /// (`b***@example.com`): what the e-mail link's landing tells a
    /// signed-in person who does not find it among theirs, so they know
    /// which account to sign in with. Any other id answers `NotFound`.
    pub async fn email_hint(&self, id: InvitationId) -> Result<String, InvitationError> {
        let now = self.clock.now();
        self.invitations
            .find(id)
            .await?
            .filter(|i| i.state(now) == InvitationState::Pending)
            .and_then(|i| i.email_hint())
            .ok_or(InvitationError::NotFound)
    }

    /// The bound invitee declines the invitation with this id. To anyone it
    /// is not addressed to (by their id, or their verified e-mail), it
    /// answers exactly like an unknown id and writes nothing.
    pub async fn reject(
        &self,
        actor: &Actor,
        id: InvitationId,
        client: &ClientInfo,
    ) -> Result<Invitation, InvitationError> {
        let invitee = self.org_repo.invitee(actor.user_id).await?.ok_or(InvitationError::NotFound)?;
        let invitation =
            self.invitations.find(id).await?.filter(|i| i.is_for(&invitee)).ok_or(InvitationError::NotFound)?;
        self.reject_loaded(actor, invitation, client).await
    }

    /// The bound invitee declines the invitation this token opens (the
    /// landing page holds only the token).
    pub async fn reject_token(
        &self,
        actor: &Actor,
        token: &InvitationToken,
        client: &ClientInfo,
    ) -> Result<Invitation, InvitationError> {
        let invitation = self.invitations.find_by_hash(&token.hash()).await?.ok_or(InvitationError::NotFound)?;
        self.reject_loaded(actor, invitation, client).await
    }

    async fn reject_loaded(
        &self,
        actor: &Actor,
        invitation: Invitation,
        client: &ClientInfo,
    ) -> Result<Invitation, InvitationError> {
        let invitee = self.org_repo.invitee(actor.user_id).await?.ok_or(InvitationError::NotFound)?;
        let mut invitation = invitation;
        for _ in 0..MAX_ATTEMPTS {
            let now = self.clock.now();
            let update = invitation.reject(&invitee, now)?;
            let entry = Acceptance::new(invitation.id, Some(actor.user_id), Outcome::Declined, None, client, now);
            match self.invitations.update(&update, Some(entry), None).await {
                Ok(()) => return Ok(update.next),
                Err(WriteError::Conflict) => {
                    invitation = self.invitations.find(invitation.id).await?.ok_or(InvitationError::NotFound)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(InvitationError::Conflict)
    }

    /// Loads an invitation the caller may manage, with their standing:
    /// `org:moderator`, a role and zone they may grant. Outsiders learn nothing.
    async fn manageable(&self, actor: &Actor, id: InvitationId) -> Result<(Invitation, Authority), InvitationError> {
        let invitation = self.invitations.find(id).await?.ok_or(InvitationError::NotFound)?;
        let authority = match self.orgs.authority(actor, invitation.organization_id).await {
            Ok(a) => a,
            Err(OrgError::NotMember) => return Err(InvitationError::NotFound),
            Err(e) => return Err(e.into()),
        };
        authority.require(OrgRole::Moderator)?;
        authority.check_manage_invitation(&invitation)?;
        Ok((invitation, authority))
    }

    /// Withdraws a pending invitation. It never loses to accepts of a busy
    /// link: the write is guarded by the status alone, and no accept is
    /// admitted once it has answered.
    pub async fn revoke(&self, actor: &Actor, id: InvitationId) -> Result<Invitation, InvitationError> {
        self.change(actor, id, |authority, invitation| authority.revoke(invitation).map(|u| (u, None::<()>)))
            .await
            .map(|(i, _)| i)
    }

    /// Rotates the token of a pending or expired invitation and renews its
    /// expiry by the original validity; same id and log.
    pub async fn resend(&self, actor: &Actor, id: InvitationId) -> Result<CreatedInvitation, InvitationError> {
        let (invitation, token) = self
            .change(actor, id, |authority, invitation| {
                let token = self.tokens.generate().map_err(InvitationError::Unexpected)?;
                authority.resend(invitation, &token, &self.quotas).map(|u| (u, Some(token)))
            })
            .await?;
        let token = token.ok_or_else(|| anyhow::anyhow!("a resend made no token"))?;
        Ok(CreatedInvitation { url: self.links.token_link(&token), invitation, token })
    }

    /// Reads, decides with `decide`, writes; again on a lost race.
    async fn change<T>(
        &self,
        actor: &Actor,
        id: InvitationId,
        decide: impl Fn(&Authority, &Invitation) -> Result<(InvitationUpdate, Option<T>), InvitationError>,
    ) -> Result<(Invitation, Option<T>), InvitationError> {
        for _ in 0..MAX_ATTEMPTS {
            let (invitation, authority) = self.manageable(actor, id).await?;
            let (update, extra) = decide(&authority, &invitation)?;
            let mail = match update.event {
                crate::model::InvitationEvent::Resent { .. } => self.announcement(&authority, &update.next).await?,
                _ => None,
            };
            match self.invitations.update(&update, None, mail).await {
                Ok(()) => return Ok((update.next, extra)),
                Err(WriteError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(InvitationError::Conflict)
    }

    /// The organization's invitations the caller may see (`org:moderator`;
    /// a zone moderator sees their zones'), newest first, a page at a time.
    pub async fn list(
        &self,
        actor: &Actor,
        org: OrganizationId,
        filter: InvitationFilter,
        page: &PageRequest<uuid::Uuid>,
    ) -> Result<Page<Invitation>, InvitationError> {
        let query = self.orgs.authority(actor, org).await?.invitations_query(filter)?;
        Ok(self.invitations.list(&query, page).await?)
    }

    /// Pending invitations addressed to the caller (their id, or their
    /// verified e-mail), newest first, a page at a time.
    pub async fn mine(
        &self,
        actor: &Actor,
        page: &PageRequest<uuid::Uuid>,
    ) -> Result<Page<(Invitation, Organization)>, InvitationError> {
        let invitee = self.org_repo.invitee(actor.user_id).await?.ok_or(InvitationError::NotFound)?;
        let email = invitee.email_verified.then_some(invitee.email);
        let found = self.invitations.mine(actor.user_id, email, self.clock.now(), page).await?;
        let mut items = Vec::with_capacity(found.items.len());
        for invitation in found.items {
            if let Some(org) = self.org_repo.get(invitation.organization_id).await? {
                items.push((invitation, org));
            }
        }
        Ok(Page { items, next_cursor: found.next_cursor })
    }

    /// The acceptance log of one invitation (`org:admin`), newest first.
    pub async fn acceptances(&self, actor: &Actor, id: InvitationId) -> Result<Vec<Acceptance>, InvitationError> {
        let invitation = self.invitations.find(id).await?.ok_or(InvitationError::NotFound)?;
        match self.orgs.require(actor, invitation.organization_id, OrgRole::Admin).await {
            Err(OrgError::NotMember) => return Err(InvitationError::NotFound),
            other => other?,
        };
        Ok(self.invitations.acceptances(id).await?)
    }
}
