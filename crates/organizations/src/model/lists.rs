//! What the lists read: members, invitations, the sidebar, and the filters
//! the model hands the adapter.

use super::{Authority, InvitationState, Membership, MembershipStatus, Organization, OrganizationId, Scope, ZoneId};
use shared_kernel::{OrgRole, UserId};
use std::cmp::Ordering;
use time::OffsetDateTime;

/// A member as the members list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The membership.
    pub membership: Membership,
    /// The member's display name.
    pub display_name: String,
    /// The member's e-mail.
    pub email: String,
}

/// The filters a caller asks the members list for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberFilter {
    /// Only memberships reading this status now ([`Membership::view_at`]).
    pub status: Option<MembershipStatus>,
    /// Only this role.
    pub role: Option<OrgRole>,
    /// Only memberships covering this zone.
    pub zone: Option<ZoneId>,
}

/// The members query the adapter runs, decided by the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberQuery {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The filters asked for.
    pub filter: MemberFilter,
    /// Only members whose zones are non-empty and all inside these (a zone
    /// moderator's scope); `None`: everyone.
    pub within: Option<Vec<ZoneId>>,
    /// The instant `status` is read at: `active` means stored active and
    /// not past `expires_at` at this instant ([`shared_kernel::Tenure::grants_at`]).
    pub at: OffsetDateTime,
}

/// The filters of the invitations list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InvitationFilter {
    /// Only invitations reading this state now: `pending` is stored pending
    /// and unexpired, `expired` stored pending and past `expires_at`, the
    /// others their stored status.
    pub state: Option<InvitationState>,
    /// Only this role.
    pub role: Option<OrgRole>,
    /// Only invitations to this zone.
    pub zone: Option<ZoneId>,
    /// Only invitations this user created.
    pub created_by: Option<UserId>,
    /// Only invitations whose bound e-mail starts with this (ASCII case-insensitive).
    pub email_prefix: Option<String>,
}

/// The invitations query the adapter runs, decided by the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationQuery {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The filters asked for, the e-mail prefix folded like stored e-mails.
    pub filter: InvitationFilter,
    /// Only invitations to one of these zones (a zone moderator's scope); `None`: all.
    pub within: Option<Vec<ZoneId>>,
    /// The instant `state` is read at.
    pub at: OffsetDateTime,
}

impl Authority {
    /// The members list this caller may read (`org:moderator`): a zone
    /// moderator sees the members inside their zones only.
    pub fn members_query(&self, filter: MemberFilter) -> Result<MemberQuery, crate::error::OrgError> {
        self.require(OrgRole::Moderator)?;
        Ok(MemberQuery {
            organization_id: self.membership().organization_id,
            filter,
            within: self.scope().zones().map(<[ZoneId]>::to_vec),
            at: self.now(),
        })
    }

    /// The invitations list this caller may read (`org:moderator`): a zone
    /// moderator sees the invitations to their zones only.
    pub fn invitations_query(&self, mut filter: InvitationFilter) -> Result<InvitationQuery, crate::error::OrgError> {
        self.require(OrgRole::Moderator)?;
        filter.email_prefix = filter.email_prefix.map(|p| p.trim().to_ascii_lowercase()).filter(|p| !p.is_empty());
        let within = match self.scope() {
            Scope::Organization => None,
            Scope::Zones(z) => Some(z),
        };
        Ok(InvitationQuery { organization_id: self.membership().organization_id, filter, within, at: self.now() })
    }
}

/// One line of the sidebar (seed 002): an organization the caller belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SidebarApp {
    /// The organization.
    pub organization: Organization,
    /// The membership.
    pub membership: Membership,
}

impl SidebarApp {
    /// The sidebar at `now`: the memberships granting access, the
    /// organizations the caller administers first, then by name.
    pub fn sidebar(mut apps: Vec<Self>, now: OffsetDateTime) -> Vec<Self> {
        apps.retain(|a| a.membership.grants(now).is_some());
        apps.sort_by(|a, b| {
            let admin = |x: &Self| x.membership.role != OrgRole::Admin;
            admin(a)
                .cmp(&admin(b))
                .then_with(|| a.organization.name.cmp(&b.organization.name))
                .then_with(|| a.organization.id.cmp(&b.organization.id))
                .then(Ordering::Equal)
        });
        apps
    }
}
