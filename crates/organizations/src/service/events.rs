//! An organization's event feed, for its admins (the superusers' feed of
//! every organization is the event log itself).

use super::OrganizationService;
use crate::error::OrgError;
use crate::model::OrganizationId;
use shared_kernel::{Actor, EventLog, FeedPage, FeedQuery, OrgRole};
use std::sync::Arc;

/// Reads one organization's events for those who may read its logs.
#[derive(Clone)]
pub struct OrganizationEvents {
    orgs: OrganizationService,
    log: Arc<dyn EventLog>,
}

impl OrganizationEvents {
    /// The feed over `log`, its access decided by `orgs`.
    pub fn new(orgs: OrganizationService, log: Arc<dyn EventLog>) -> Self {
        Self { orgs, log }
    }

    /// A page of `org`'s events after the query's cursor, oldest first.
    /// Only its admins read it (`youMay.readLogs`), as they read its
    /// histories and acceptance logs.
    pub async fn page(&self, actor: &Actor, org: OrganizationId, query: FeedQuery) -> Result<FeedPage, OrgError> {
        self.orgs.require(actor, org, OrgRole::Admin).await?;
        let query = FeedQuery { organization_id: Some(org.as_uuid()), ..query };
        let rows = self.log.read(&query).await?;
        Ok(FeedPage::from_overfetch(rows, &query))
    }
}
