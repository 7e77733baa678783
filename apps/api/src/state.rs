//! What every handler shares: the use cases, the adapters a route reads
//! directly, the limits and the clock. Built once by `startup`, which is the
//! only module that knows the concrete adapters behind it.

use crate::auth::Authenticator;
use crate::avatar_flow::AvatarFlow;
use crate::error::ApiError;
use crate::metrics::Metrics;
use actix_web::web;
use adapter_s3::LocalObjectStore;
use adapter_sql::Database;
use image_upload::{ImageUploadService, ObjectStore};
use organizations::{InvitationService, LogoService, OrganizationEvents, OrganizationService};
use photo_verification::PhotoVerificationService;
use profile_verification::ProfileService;
use shared_kernel::{Actor, Clock, EventLog};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use users::{AvatarService, UserDto, UserService};

/// Everything handlers share.
pub struct AppState {
    /// The user use cases.
    pub users: UserService,
    /// Token verification.
    pub auth: Authenticator,
    /// The database, for readiness and pool metrics.
    pub db: Database,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// How long a request body may take to arrive (uploads: a multiple).
    pub body_timeout: Duration,
    /// The token `/metrics` requires, when one is set.
    pub metrics_token: Option<crate::settings::Secret>,
    /// The avatar use cases.
    pub avatars: AvatarService,
    /// The embedded object store, when it is the configured one (serves `/uploads` and `/files`).
    pub local_store: Option<Arc<LocalObjectStore>>,
    /// The configured object store (signed URLs of private photos, the erasure's deletes).
    pub store: Arc<dyn ObjectStore>,
    /// The upload tickets (the embedded store's upload route asks whether a key still takes bytes).
    pub uploads: ImageUploadService,
    /// The photo verification use cases.
    pub photos: PhotoVerificationService,
    /// The avatar upload, with photo verification when it is on.
    pub avatar_flow: AvatarFlow,
    /// The KYC profile use cases.
    pub profiles: ProfileService,
    /// Organizations, zones and memberships.
    pub orgs: OrganizationService,
    /// Every change's events, in commit order (the superusers' feed).
    pub events: Arc<dyn EventLog>,
    /// Webhook endpoints, their deliveries and replays.
    pub webhooks: webhooks::WebhookService,
    /// An organization's events, for its admins.
    pub organization_events: OrganizationEvents,
    /// Invitations.
    pub invitations: InvitationService,
    /// Organization logos.
    pub logos: LogoService,
    /// The per-address rate limit of the public invitation preview.
    pub preview_limiter: crate::rate_limit::Limiter,
    /// The per-caller rate limit of accepting invitations.
    pub accept_limiter: crate::rate_limit::Limiter,
    /// The proxies whose forwarding headers name the client.
    pub trusted_proxies: crate::client::TrustedProxies,
    /// The clock every use case and every "as of now" reading uses.
    pub clock: Arc<dyn Clock>,
    /// Set once a shutdown signal arrived: `/readyz` answers 503 from then on.
    pub draining: Arc<AtomicBool>,
}

impl AppState {
    /// "Change, then answer with the caller": awaits `change` (a use case
    /// acting for `actor`) and, when it succeeds, answers with the caller's
    /// User DTO as it now stands (memberships, current organization), which
    /// is what every organization-changing endpoint returns.
    pub async fn then_current_user<T, E: Into<ApiError>>(
        &self,
        actor: &Actor,
        change: impl Future<Output = Result<T, E>>,
    ) -> Result<web::Json<UserDto>, ApiError> {
        change.await.map_err(Into::into)?;
        Ok(web::Json(self.users.current(actor).await?.into()))
    }
}
