//! The organization shapes that the organization, invitation and sidebar
//! routes all return.

use organizations::{Organization, Zone};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A zone.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ZoneDto {
    /// Zone id (UUIDv7).
    pub id: Uuid,
    /// Its organization.
    pub organization_id: Uuid,
    /// Unique in the organization.
    pub name: String,
    /// Creation time (RFC 3339, UTC).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<Zone> for ZoneDto {
    fn from(z: Zone) -> Self {
        Self {
            id: z.id.as_uuid(),
            organization_id: z.organization_id.as_uuid(),
            name: z.name,
            created_at: z.created_at,
        }
    }
}

/// The light organization summary.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgSummaryDto {
    /// Organization id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Public logo URL.
    pub logo_url: Option<String>,
}

impl From<&Organization> for OrgSummaryDto {
    fn from(o: &Organization) -> Self {
        Self { id: o.id.as_uuid(), name: o.name.clone(), logo_url: o.logo_url.clone() }
    }
}
