//! Organizations, zones, members, blocks, history and the sidebar.

use super::MAX_ATTEMPTS;
use crate::error::{OrgError, WriteError};
use crate::model::{
    Authority, Member, MemberFilter, MemberUpdate, Membership, MembershipHistory, MembershipPlan, Name, Organization,
    OrganizationId, Permissions, QuotaPolicy, SidebarApp, Zone, appoint_admin, found_organization,
};
use crate::ports::{Block, OrganizationRepository};
use shared_kernel::{Actor, Clock, OrgRole, Page, PageRequest, UserId};
use std::sync::Arc;

/// An organization as one of its members sees it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OrganizationView {
    /// The organization.
    pub organization: Organization,
    /// Its zones, by name.
    pub zones: Vec<Zone>,
    /// The caller's membership.
    pub membership: Membership,
    /// What the caller may do there.
    pub permissions: Permissions,
}

/// Organizations, zones and memberships.
#[derive(Clone)]
pub struct OrganizationService {
    orgs: Arc<dyn OrganizationRepository>,
    clock: Arc<dyn Clock>,
    quotas: QuotaPolicy,
}

impl OrganizationService {
    /// Builds the service.
    pub fn new(orgs: Arc<dyn OrganizationRepository>, clock: Arc<dyn Clock>, quotas: QuotaPolicy) -> Self {
        Self { orgs, clock, quotas }
    }

    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The caller's standing in `org` now, read from the database on every
    /// call, so an ended or expired membership grants nothing.
    pub async fn authority(&self, actor: &Actor, org: OrganizationId) -> Result<Authority, OrgError> {
        let membership = self.orgs.active_membership(org, actor.user_id).await?;
        Authority::at(membership, self.clock.now())
    }

    /// The caller's standing (at least `required`) and the active
    /// membership of `user` it acts on. Both are read before the clock, so
    /// the change decided from them never dates from before the version it
    /// replaces: a concurrent change committed between the reads is seen,
    /// and was timed earlier. (Read the other way round, two concurrent role
    /// changes could close a history row before it opened.)
    async fn authority_over(
        &self,
        actor: &Actor,
        org: OrganizationId,
        user: UserId,
        required: OrgRole,
    ) -> Result<(Authority, Membership), OrgError> {
        let own = self.orgs.active_membership(org, actor.user_id).await?;
        let target = self.orgs.active_membership(org, user).await?;
        let authority = Authority::at(own, self.clock.now())?;
        authority.require(required)?;
        Ok((authority, target.ok_or(OrgError::MemberNotFound)?))
    }

    /// `org:required`: the caller's standing if their role is at least `required`.
    pub async fn require(&self, actor: &Actor, org: OrganizationId, required: OrgRole) -> Result<Authority, OrgError> {
        let authority = self.authority(actor, org).await?;
        authority.require(required)?;
        Ok(authority)
    }

    /// Creates an organization; the caller becomes its admin and it becomes current.
    pub async fn create(&self, actor: &Actor, name: &Name) -> Result<Organization, OrgError> {
        for _ in 0..MAX_ATTEMPTS {
            let founding = found_organization(name, actor.user_id, &self.quotas, self.clock.now());
            match self.orgs.create(&founding).await {
                Ok(()) => return Ok(founding.organization),
                // Its slug was taken: found it again under a new id (and slug suffix).
                Err(WriteError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(OrgError::Conflict)
    }

    /// Makes `org` the caller's current organization.
    pub async fn switch(&self, actor: &Actor, org: OrganizationId) -> Result<(), OrgError> {
        for _ in 0..MAX_ATTEMPTS {
            let authority = self.authority(actor, org).await?;
            match self.orgs.set_current(authority.membership(), self.clock.now()).await {
                Ok(()) => return Ok(()),
                Err(WriteError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(OrgError::Conflict)
    }

    /// The organization, its zones, and the caller's membership and permissions (`org:guest`).
    pub async fn get(&self, actor: &Actor, org: OrganizationId) -> Result<OrganizationView, OrgError> {
        let authority = self.authority(actor, org).await?;
        let organization = self.orgs.get(org).await?.ok_or(OrgError::NotMember)?;
        Ok(OrganizationView {
            organization,
            zones: self.orgs.zones(org).await?,
            permissions: authority.permissions(),
            membership: authority.membership().clone(),
        })
    }

    /// Renames the organization (`org:admin`).
    pub async fn rename(&self, actor: &Actor, org: OrganizationId, name: &Name) -> Result<Organization, OrgError> {
        self.require(actor, org, OrgRole::Admin).await?;
        self.orgs.rename(org, name.as_str(), self.clock.now(), actor.user_id).await?.ok_or(OrgError::NotMember)
    }

    /// Creates a zone (`org:admin`); names are unique regardless of case.
    pub async fn create_zone(&self, actor: &Actor, org: OrganizationId, name: &Name) -> Result<Zone, OrgError> {
        self.require(actor, org, OrgRole::Admin).await?;
        let zone = Zone::new(org, name, self.clock.now());
        self.orgs.create_zone(&zone, actor.user_id).await?;
        Ok(zone)
    }

    /// The zones (`org:guest`).
    pub async fn zones(&self, actor: &Actor, org: OrganizationId) -> Result<Vec<Zone>, OrgError> {
        self.authority(actor, org).await?;
        Ok(self.orgs.zones(org).await?)
    }

    /// The members the caller may see (`org:moderator`; a zone moderator sees their zones' members).
    pub async fn members(
        &self,
        actor: &Actor,
        org: OrganizationId,
        filter: MemberFilter,
        page: &PageRequest<uuid::Uuid>,
    ) -> Result<Page<Member>, OrgError> {
        let query = self.authority(actor, org).await?.members_query(filter)?;
        Ok(self.orgs.members(&query, page).await?)
    }

    /// Changes a member's role, zones or expiry (`org:admin`).
    pub async fn update_member(
        &self,
        actor: &Actor,
        org: OrganizationId,
        user: UserId,
        update: &MemberUpdate,
    ) -> Result<Membership, OrgError> {
        for _ in 0..MAX_ATTEMPTS {
            let (authority, target) = self.authority_over(actor, org, user, OrgRole::Admin).await?;
            let zones: Vec<_> = self.orgs.zones(org).await?.into_iter().map(|z| z.id).collect();
            let Some(plan) = authority.update_member(&target, update, &zones)? else { return Ok(target) };
            match self.apply(plan).await? {
                Some(m) => return Ok(m),
                None => continue,
            }
        }
        Err(OrgError::Conflict)
    }

    /// Removes a member (`org:moderator`; moderators remove guests and
    /// members in their scope only); `block` keeps them out of every
    /// invitation of the organization until an admin unblocks them.
    pub async fn remove(
        &self,
        actor: &Actor,
        org: OrganizationId,
        user: UserId,
        block: bool,
    ) -> Result<Membership, OrgError> {
        for _ in 0..MAX_ATTEMPTS {
            let (authority, target) = self.authority_over(actor, org, user, OrgRole::Moderator).await?;
            match self.apply(authority.remove_member(&target, block)?).await? {
                Some(m) => return Ok(m),
                None => continue,
            }
        }
        Err(OrgError::Conflict)
    }

    /// The caller leaves the organization.
    pub async fn leave(&self, actor: &Actor, org: OrganizationId) -> Result<Membership, OrgError> {
        for _ in 0..MAX_ATTEMPTS {
            let own = self.orgs.active_membership(org, actor.user_id).await?.ok_or(OrgError::NotMember)?;
            match self.apply(own.leave(self.clock.now())?).await? {
                Some(m) => return Ok(m),
                None => continue,
            }
        }
        Err(OrgError::Conflict)
    }

    /// Carries out `plan`: the membership written, or `None` when a
    /// compare-and-set or `Unchanged` guard lost (read again and decide again).
    async fn apply(&self, plan: MembershipPlan) -> Result<Option<Membership>, OrgError> {
        match self.orgs.apply(std::slice::from_ref(&plan)).await {
            Ok(()) => Ok(Some(plan.membership().clone())),
            Err(WriteError::Conflict) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Lifts a block (`org:admin`); `MemberNotFound` when the user was not blocked.
    pub async fn unblock(&self, actor: &Actor, org: OrganizationId, user: UserId) -> Result<(), OrgError> {
        let unblock = self.authority(actor, org).await?.unblock(user)?;
        if self.orgs.unblock(&unblock).await? { Ok(()) } else { Err(OrgError::MemberNotFound) }
    }

    /// The users blocked from the organization (`org:moderator`).
    pub async fn blocks(&self, actor: &Actor, org: OrganizationId) -> Result<Vec<Block>, OrgError> {
        self.require(actor, org, OrgRole::Moderator).await?;
        Ok(self.orgs.blocks(org).await?)
    }

    /// One user's membership history in `org` (`org:admin`).
    pub async fn history(
        &self,
        actor: &Actor,
        org: OrganizationId,
        user: UserId,
    ) -> Result<Vec<MembershipHistory>, OrgError> {
        self.require(actor, org, OrgRole::Admin).await?;
        Ok(self.orgs.history(org, user).await?)
    }

    /// The caller's organizations (seed 002's sidebar).
    pub async fn sidebar(&self, actor: &Actor) -> Result<Vec<SidebarApp>, OrgError> {
        Ok(SidebarApp::sidebar(self.orgs.sidebar(actor.user_id).await?, self.clock.now()))
    }

    /// A superuser makes `user` a permanent admin of `org` (history cause
    /// `appointed`), so that no organization is ever left unmanageable.
    pub async fn appoint_admin(
        &self,
        actor: &Actor,
        org: OrganizationId,
        user: UserId,
    ) -> Result<Membership, OrgError> {
        if !actor.is_superuser() {
            return Err(OrgError::NotSuperuser);
        }
        self.orgs.get(org).await?.ok_or(OrgError::OrganizationNotFound)?;
        self.orgs.invitee(user).await?.ok_or(OrgError::UserNotFound)?;
        for _ in 0..MAX_ATTEMPTS {
            let existing = self.orgs.active_membership(org, user).await?;
            let Some((end_lapsed, plan)) = appoint_admin(actor.user_id, org, user, existing.as_ref(), self.clock.now())
            else {
                return existing.ok_or(OrgError::Conflict);
            };
            let plans: Vec<_> = end_lapsed.into_iter().chain([plan.clone()]).collect();
            match self.orgs.apply(&plans).await {
                Ok(()) => return Ok(plan.membership().clone()),
                Err(WriteError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(OrgError::Conflict)
    }

    /// Ends time-bound memberships that ran out; how many. Idempotent and
    /// safe on several replicas: each is ended once, by compare-and-set.
    pub async fn sweep(&self, limit: u32) -> anyhow::Result<u64> {
        let now = self.clock.now();
        let mut ended = 0;
        for due in self.orgs.due_expiries(now, limit).await? {
            let Some(plan) = due.expire(now) else { continue };
            match self.orgs.apply(&[plan]).await {
                Ok(()) => ended += 1,
                // Another replica (or a member action) got there first.
                Err(WriteError::Conflict) => {}
                Err(e) => return Err(anyhow::Error::new(e).context("expiring a membership")),
            }
        }
        Ok(ended)
    }
}
