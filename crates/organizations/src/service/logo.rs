//! The organization logo: seed 003's two-step upload with owner = organization id.

use super::OrganizationService;
use crate::error::{OrgError, WriteError};
use crate::model::OrganizationId;
use crate::ports::OrganizationRepository;
use image_upload::{ImageUpload, ImageUploadService, IssuedTicket, Visibility};
use shared_kernel::{Actor, OrgRole};
use std::sync::Arc;
use time::Duration;

/// The organization logo use cases.
#[derive(Clone)]
pub struct LogoService {
    orgs: OrganizationService,
    repo: Arc<dyn OrganizationRepository>,
    uploads: ImageUploadService,
    policy: ImageUpload,
}

impl LogoService {
    /// Builds the use cases with the logo `policy` (purpose `logo`, prefix `logos`).
    pub fn new(
        orgs: OrganizationService,
        repo: Arc<dyn OrganizationRepository>,
        uploads: ImageUploadService,
        policy: ImageUpload,
    ) -> Self {
        Self { orgs, repo, uploads, policy }
    }

    /// The logo upload policy of seed 003 with the given rate limit.
    pub fn policy(tries_per_window: u32, window: Duration) -> ImageUpload {
        ImageUpload { purpose: "logo", key_prefix: "logos", ..ImageUpload::avatar(tries_per_window, window) }
    }

    /// A presigned upload of a new logo (`org:admin`).
    pub async fn ticket(
        &self,
        actor: &Actor,
        org: OrganizationId,
        content_type: &str,
    ) -> Result<IssuedTicket, LogoError> {
        self.orgs.require(actor, org, OrgRole::Admin).await?;
        Ok(self.uploads.issue_ticket(&self.policy, &org.to_string(), actor.user_id, content_type).await?)
    }

    /// Verifies the upload and makes it the logo (`org:admin`); deletes the previous one.
    pub async fn finalize(&self, actor: &Actor, org: OrganizationId, tmp_key: &str) -> Result<String, LogoError> {
        self.orgs.require(actor, org, OrgRole::Admin).await?;
        let upload =
            self.uploads.verify(&self.policy, &org.to_string(), actor.user_id, tmp_key, Visibility::Public).await?;
        let now = upload.ticket.created_at.max(self.orgs.clock().now());
        let swap = self.repo.set_logo(org, upload.ticket.id, &upload.key, &upload.url, now, actor.user_id);
        self.uploads.commit(&upload.key, swap, Option::as_ref).await.map_err(|e| match e {
            WriteError::Conflict => LogoError::from(image_upload::FinalizeError::TicketUsed),
            other => OrgError::from(other).into(),
        })?;
        self.uploads.used(&upload).await;
        Ok(upload.url)
    }

    /// Removes the logo (`org:admin`).
    pub async fn remove(&self, actor: &Actor, org: OrganizationId) -> Result<(), LogoError> {
        self.orgs.require(actor, org, OrgRole::Admin).await?;
        if let Some(previous) =
            self.repo.clear_logo(org, self.orgs.clock().now(), actor.user_id).await.map_err(OrgError::from)?
        {
            self.uploads.removed(&previous).await;
        }
        Ok(())
    }
}

/// A logo use case failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogoError {
    /// Authorisation.
    #[error(transparent)]
    Org(#[from] OrgError),
    /// Issuing the ticket.
    #[error(transparent)]
    Ticket(#[from] image_upload::TicketError),
    /// Finalizing.
    #[error(transparent)]
    Finalize(#[from] image_upload::FinalizeError),
}
