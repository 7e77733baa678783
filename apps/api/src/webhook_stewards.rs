//! Who may manage which webhook endpoints now, from the organizations and
//! users use cases: the `webhooks::Stewards` port.

use async_trait::async_trait;
use organizations::{OrgError, OrganizationId, OrganizationService};
use shared_kernel::{Actor, OrgRole, UserId};
use users::UserService;
use webhooks::{Scope, Stewards};

/// Whether `actor` may manage `org`'s webhook endpoints now, as the model's
/// permissions say (`youMay.manageWebhooks`); the refusal names the role it takes.
pub(crate) async fn manages_webhooks(
    orgs: &OrganizationService,
    actor: &Actor,
    org: OrganizationId,
) -> Result<(), OrgError> {
    let authority = orgs.authority(actor, org).await?;
    if authority.permissions().manage_webhooks { Ok(()) } else { Err(OrgError::Forbidden { required: OrgRole::Admin }) }
}

/// Superusers manage the platform's endpoints, an organization's admins
/// with a membership in force that organization's.
pub struct MembershipStewards {
    /// Memberships and roles.
    pub orgs: OrganizationService,
    /// Platform roles.
    pub users: UserService,
}

#[async_trait]
impl Stewards for MembershipStewards {
    async fn may_manage(&self, user: UserId, scope: Scope) -> anyhow::Result<bool> {
        let Some(actor) = self.users.actor(user).await? else { return Ok(false) };
        match scope {
            Scope::Platform => Ok(actor.is_superuser()),
            Scope::Organization(org) => {
                match manages_webhooks(&self.orgs, &actor, OrganizationId::from_uuid(org)).await {
                    Ok(_) => Ok(true),
                    Err(OrgError::NotMember | OrgError::Forbidden { .. } | OrgError::OrganizationNotFound) => Ok(false),
                    Err(e) => Err(anyhow::Error::new(e).context("reading a webhook steward's membership")),
                }
            }
        }
    }
}
