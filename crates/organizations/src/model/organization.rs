//! Organizations (seed 004's company, seed 002's FiO app) and their zones.

use super::{Name, OrganizationId, ZoneId};
use shared_kernel::UserId;
use time::OffsetDateTime;

/// An organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    /// Its id.
    pub id: OrganizationId,
    /// Display name.
    pub name: String,
    /// Unique slug.
    pub slug: String,
    /// Public logo URL.
    pub logo_url: Option<String>,
    /// The user who created it.
    pub created_by: UserId,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

impl Organization {
    /// A new organization named `name`, created by `by` at `now`.
    pub fn new(name: &Name, by: UserId, now: OffsetDateTime) -> Self {
        let id = OrganizationId::new();
        Self {
            id,
            name: name.as_str().to_owned(),
            slug: name.slug(id),
            logo_url: None,
            created_by: by,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A named part of an organization (seed 004).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// Its id.
    pub id: ZoneId,
    /// The organization it belongs to.
    pub organization_id: OrganizationId,
    /// Unique within the organization regardless of case.
    pub name: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl Zone {
    /// A new zone of `organization`.
    pub fn new(organization: OrganizationId, name: &Name, now: OffsetDateTime) -> Self {
        Self { id: ZoneId::new(), organization_id: organization, name: name.as_str().to_owned(), created_at: now }
    }

    /// The key that must be unique in its organization ([`Name::key`]).
    pub fn key(&self) -> String {
        self.name.to_lowercase()
    }
}
