//! Who may manage which webhook endpoints now, from the organizations and
//! users use cases: the `webhooks::Stewards` port.

use async_trait::async_trait;
use organizations::{OrgError, OrganizationId, OrganizationService};
use shared_kernel::{OrgRole, UserId};
use users::UserService;
use webhooks::{Scope, Stewards};

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
                match self.orgs.require(&actor, OrganizationId::from_uuid(org), OrgRole::Admin).await {
                    Ok(_) => Ok(true),
                    Err(OrgError::NotMember | OrgError::Forbidden { .. } | OrgError::OrganizationNotFound) => Ok(false),
                    Err(e) => Err(anyhow::Error::new(e).context("reading a webhook steward's membership")),
                }
            }
        }
    }
}
