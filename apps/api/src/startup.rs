//! Wiring: the only file that names concrete adapters. `Application::build`
//! binds the listener first (port 0 works), connects and migrates the
//! database, builds the services and returns a server ready to run.

use crate::auth::Authenticator;
use crate::avatar_flow::{AvatarFlow, PhotoFlowSettings};
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::settings::StorageKind;
use crate::state::AppState;
use crate::{middleware, openapi, routes};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Compress, Condition, from_fn};
use actix_web::{App, HttpServer, web};
use adapter_crypto::KeyRing;
use adapter_discord::{DiscordClient, DiscordConfig};
use adapter_s3::{LocalObjectStore, S3Config, S3ObjectStore};
use adapter_smtp::SmtpNotifier;
use adapter_sql::{
    Database, PoolSettings, SqlEventLog, SqlInvitationRepository, SqlOrganizationRepository,
    SqlPhotoVerificationRepository, SqlProfileRepository, SqlUploadTicketRepository, SqlUserRepository,
};
use anyhow::Context as _;
use image_upload::{ImageUpload, ImageUploadService, ObjectStore};
use organizations::{
    InvitationId, InvitationLinks, InvitationService, InvitationToken, LogNotifier, LogoService, Notifier,
    OrganizationEvents, OrganizationService, OsTokenGenerator,
};
use photo_verification::PhotoVerificationService;
use profile_verification::{ProfilePolicy, ProfileService};
use shared_kernel::{Clock, EventLog, NoPause, Pause, SystemClock};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use users::{AvatarService, UserPolicy, UserService};
use utoipa_actix_web::AppExt as _;

/// What `Application::build_with` takes besides the settings: the parts a
/// test replaces.
#[derive(Clone)]
pub struct Dependencies {
    /// The clock (the system clock in production; a settable one in tests).
    pub clock: Arc<dyn Clock>,
    /// Where reviewers' decisions wait between their read and their write
    /// (never, in production; tests hold one there to force a conflict).
    pub pause: Arc<dyn Pause>,
}

impl Default for Dependencies {
    fn default() -> Self {
        Self { clock: Arc::new(SystemClock), pause: Arc::new(NoPause) }
    }
}

/// The dashboard's links: a token in the fragment of
/// `{public_url}/dashboard/invite#token=…` (browsers never send a fragment to
/// a server, so the token reaches no log), and
/// `{public_url}/dashboard/invite?invitation={id}` in e-mails.
#[derive(Clone, Debug)]
pub struct DashboardLinks {
    public_url: String,
}

impl DashboardLinks {
    /// Links under `public_url`.
    pub fn new(public_url: &str) -> Self {
        Self { public_url: public_url.trim_end_matches('/').to_owned() }
    }
}

impl InvitationLinks for DashboardLinks {
    fn token_link(&self, token: &InvitationToken) -> String {
        format!("{}/dashboard/invite#token={}", self.public_url, token.expose())
    }

    fn invitation_link(&self, id: InvitationId) -> String {
        format!("{}/dashboard/invite?invitation={id}", self.public_url)
    }
}

/// The organization and invitation use cases over `db`, as the service and
/// the command line build them.
pub fn organization_services(
    settings: &Settings,
    db: &Database,
    clock: Arc<dyn Clock>,
    public_url: &str,
) -> anyhow::Result<(OrganizationService, InvitationService)> {
    let org_repo = Arc::new(SqlOrganizationRepository::new(db.clone()));
    let quotas = settings.quotas.policy();
    let orgs = OrganizationService::new(org_repo.clone(), clock.clone(), quotas.clone());
    let invitations = InvitationService::new(
        org_repo,
        Arc::new(SqlInvitationRepository::new(db.clone())),
        Arc::new(OsTokenGenerator),
        notifier(settings)?,
        clock,
        Arc::new(DashboardLinks::new(public_url)),
        quotas,
    );
    Ok((orgs, invitations))
}

/// A built, not yet running, service.
pub struct Application {
    addr: SocketAddr,
    public_url: String,
    server: Server,
    db: Database,
    jobs: crate::background::Jobs,
    background: tokio::task::JoinHandle<()>,
    draining: Arc<AtomicBool>,
    drain: Duration,
}

/// Creates the data directory (mode 0700) and, for SQLite, the database file
/// (mode 0600, which SQLite gives its `-wal` and `-shm` files too) when they
/// do not exist yet: they hold secrets, keys and personal data.
fn create_private(settings: &Settings) -> anyhow::Result<()> {
    crate::secrets::create_private_dir(&settings.data_dir)?;
    let url = settings.database_url();
    let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else { return Ok(()) };
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(':') {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating the SQLite database {path}")),
    }
}

/// Connects to and migrates the configured database.
pub async fn connect_database(settings: &Settings) -> anyhow::Result<Database> {
    create_private(settings)?;
    let pool = PoolSettings {
        max_connections: settings.max_connections(),
        acquire_timeout: Duration::from_secs(settings.database.acquire_timeout_seconds.max(1)),
    };
    let db = Database::connect(&settings.database_url(), &pool).await?;
    db.migrate().await?;
    // Connections opened before a migration keep the old schema cached; a
    // fresh pool guarantees every connection sees the migrated one.
    db.close().await;
    let db = Database::connect(&settings.database_url(), &pool).await?;
    Ok(db)
}

/// Builds the configured object store: S3/R2, or the embedded local store
/// under `data_dir/objects` (returned twice: it also serves HTTP routes).
pub fn object_store(settings: &Settings, public_url: &str, clock: Arc<dyn Clock>) -> anyhow::Result<Stores> {
    match &settings.storage.kind {
        StorageKind::Local(local) => {
            let key = match &local.signing_key {
                Some(key) => key.clone(),
                None => {
                    crate::secrets::read_or_generate(&settings.data_dir.join(UPLOAD_KEY_FILE), "upload signing key")?
                }
            };
            let local = Arc::new(
                LocalObjectStore::new(settings.data_dir.join("objects"), public_url, key.expose().as_bytes().to_vec())?
                    .with_upload_limit(settings.storage.max_concurrent_uploads)
                    .with_clock(clock),
            );
            Ok((local.clone(), Some(local)))
        }
        StorageKind::S3(s) => {
            let config = S3Config {
                endpoint: s.endpoint.clone(),
                bucket: s.bucket.clone(),
                region: s.region.clone(),
                access_key_id: s.access_key_id.clone(),
                secret_access_key: s.secret_access_key.expose().to_owned(),
                public_base_url: s.public_base_url.clone(),
            };
            Ok((Arc::new(S3ObjectStore::new(config)?), None))
        }
    }
}

/// The object store, and the embedded store again when it is the one in use.
pub type Stores = (Arc<dyn ObjectStore>, Option<Arc<LocalObjectStore>>);

/// The file in `data_dir` holding the embedded store's upload signing key.
pub const UPLOAD_KEY_FILE: &str = "upload-signing.key";

/// The user use cases over the given database.
pub fn user_service(settings: &Settings, db: &Database, clock: Arc<dyn Clock>) -> anyhow::Result<UserService> {
    let bootstrap = settings.auth.bootstrap_superusers.get().clone();
    let policy = UserPolicy {
        bootstrap_superusers: bootstrap,
        avatar_tries_per_window: settings.avatar.tries_per_window,
        avatar_window: avatar_policy(settings).window,
    };
    Ok(UserService::new(Arc::new(SqlUserRepository::new(db.clone())), clock, policy))
}

/// The file in `data_dir` holding the embedded default's profile encryption secret.
pub const PROFILE_KEY_FILE: &str = "profile-encryption.key";

/// The prefix of the generated profile key's id: `local-<fingerprint>`.
pub const GENERATED_PROFILE_KEY_PREFIX: &str = "local-";

/// The key ring sealing profiles' personal data: the configured
/// `profiles.encryption_keys`, plus the key generated into `data_dir` (id
/// `local-<fingerprint>`) when none are configured or when that file exists,
/// so data written by the embedded default stays readable after keys are
/// configured. The fingerprint makes two different generated keys (say, two
/// replicas that each generated one) fail with a clear "key not configured".
pub fn profile_key_ring(settings: &Settings) -> anyhow::Result<KeyRing> {
    let p = &settings.profiles;
    let path = settings.data_dir.join(PROFILE_KEY_FILE);
    let mut keys = Vec::with_capacity(p.encryption_keys.len() + 1);
    for k in &p.encryption_keys {
        let key = adapter_crypto::decode_key(k.key.expose())
            .with_context(|| format!("profiles.encryption_keys: key {:?}", k.id))?;
        keys.push((k.id.clone(), key));
    }
    let mut generated_id = None;
    if p.encryption_keys.is_empty() || path.exists() {
        let secret = crate::secrets::read_or_generate(&path, "profile encryption key")?;
        let key = adapter_crypto::derive_key(secret.expose());
        let id = format!("{GENERATED_PROFILE_KEY_PREFIX}{}", adapter_crypto::fingerprint(&key));
        if !keys.iter().any(|(configured, _)| configured == &id) {
            keys.push((id.clone(), key));
        }
        generated_id = Some(id);
    }
    let active = p
        .active_key_id
        .clone()
        .or(generated_id)
        .context("profiles.active_key_id is required with profiles.encryption_keys")?;
    KeyRing::new(keys, &active)
}

/// The profile use cases over the given database.
pub fn profile_service(
    settings: &Settings,
    db: &Database,
    clock: Arc<dyn Clock>,
    pause: Arc<dyn Pause>,
) -> anyhow::Result<ProfileService> {
    let p = &settings.profiles;
    let policy = ProfilePolicy {
        double_verification: p.double_verification,
        required_on_submit: p.required_on_submit.get().clone(),
        mask_personal_data: p.mask_personal_data,
        levels: p.levels.get().clone(),
    };
    let cipher = Arc::new(profile_key_ring(settings)?);
    let repo = Arc::new(SqlProfileRepository::new(db.clone(), cipher));
    Ok(ProfileService::new(repo, clock, pause, policy))
}

/// The avatar upload policy from settings.
pub fn avatar_policy(settings: &Settings) -> ImageUpload {
    let mut policy = ImageUpload::avatar(
        settings.avatar.tries_per_window,
        time::Duration::seconds(i64::try_from(settings.avatar.window_seconds).unwrap_or(i64::MAX)),
    );
    policy.ticket_ttl = time::Duration::seconds(i64::try_from(settings.avatar.ticket_ttl_seconds).unwrap_or(600));
    policy
}

/// The invitation e-mail sender: SMTP when `smtp.url` is set, else the log-only notifier.
pub fn notifier(settings: &Settings) -> anyhow::Result<Arc<dyn Notifier>> {
    Ok(match &settings.smtp.url {
        Some(url) => Arc::new(SmtpNotifier::new(url.expose(), &settings.smtp.from)?),
        None => Arc::new(LogNotifier),
    })
}

/// The webhook use cases over `db`'s store, fanning out `events`. Loopback
/// receivers are allowed only while `public_url` is loopback itself.
fn webhook_service(
    settings: &Settings,
    public_url: &str,
    db: &Database,
    events: Arc<dyn EventLog>,
    stewards: crate::webhook_stewards::MembershipStewards,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<webhooks::WebhookService> {
    let loopback = url::Url::parse(public_url).ok().is_some_and(|u| match u.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    });
    let sender =
        crate::webhook_sender::HttpSender::new(loopback, Duration::from_secs(settings.events.webhook_timeout_seconds))?;
    Ok(webhooks::WebhookService::new(
        webhooks::WebhookPorts {
            store: Arc::new(adapter_sql::SqlWebhookStore::new(db.clone())),
            log: events,
            sender: Arc::new(sender),
            stewards: Arc::new(stewards),
        },
        clock,
        webhooks::WebhookSettings { loopback, schedule: webhooks::RetrySchedule::DEFAULT },
        crate::event_types::known_types(),
    ))
}

impl Application {
    /// Binds, connects, migrates and wires the service.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, Dependencies::default()).await
    }

    /// [`Self::build`] with the given dependencies (tests pass a settable clock).
    pub async fn build_with(settings: Settings, deps: Dependencies) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind(settings.server.addr).with_context(|| format!("binding {}", settings.server.addr))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let public_url = settings.public_url(addr);
        tracing::info!(%addr, %public_url, "listening");
        if addr.ip().is_unspecified() && settings.server.public_url.is_none() {
            tracing::warn!(
                %public_url,
                "listening on all interfaces without server.public_url: links and upload URLs will name {public_url}, \
                 which clients cannot reach; set USHER_SERVER__PUBLIC_URL"
            );
        }

        if let Some(warning) = settings.serving_advice()? {
            tracing::warn!("{warning}");
        }
        let db = connect_database(&settings).await?;
        let clock = deps.clock.clone();
        let (store, local_store) = object_store(&settings, &public_url, clock.clone())?;
        let uploads =
            ImageUploadService::new(store.clone(), Arc::new(SqlUploadTicketRepository::new(db.clone())), clock.clone());
        let avatars = AvatarService::new(
            uploads.clone(),
            Arc::new(SqlUserRepository::new(db.clone())),
            clock.clone(),
            avatar_policy(&settings),
        );
        let org_repo = Arc::new(SqlOrganizationRepository::new(db.clone()));
        let (orgs, invitations) = organization_services(&settings, &db, clock.clone(), &public_url)?;
        let logos = LogoService::new(
            orgs.clone(),
            org_repo,
            uploads.clone(),
            LogoService::policy(settings.invitations.logo_tries_per_day, time::Duration::days(1)),
        );
        let discord = DiscordClient::new(DiscordConfig::new(
            settings.discord.api_base.clone(),
            settings.discord.bot_token.as_ref().map(|t| t.expose().to_owned()),
        ))?;
        let photos = PhotoVerificationService::new(
            Arc::new(SqlPhotoVerificationRepository::new(db.clone())),
            Arc::new(discord),
            store.clone(),
            uploads.clone(),
            clock.clone(),
            deps.pause.clone(),
        );
        let rate_limits =
            crate::rate_limit::RateLimits::new(adapter_sql::SqlRateLimits::new(db.clone()), clock.clone());
        let users = user_service(&settings, &db, clock.clone())?;
        let avatar_flow = AvatarFlow::new(
            users.clone(),
            avatars.clone(),
            photos.clone(),
            PhotoFlowSettings {
                enabled: settings.features.photo_verification,
                require_discord: settings.photo_verification.require_discord,
            },
        );
        let draining = Arc::new(AtomicBool::new(false));
        let events: Arc<dyn EventLog> = Arc::new(SqlEventLog::new(db.clone()));
        let organization_events = OrganizationEvents::new(orgs.clone(), events.clone());
        let stewards = crate::webhook_stewards::MembershipStewards { orgs: orgs.clone(), users: users.clone() };
        let webhooks = webhook_service(&settings, &public_url, &db, events.clone(), stewards, clock.clone())?;
        let jobs = crate::background::Jobs {
            rate_limits: rate_limits.clone(),
            uploads,
            orgs: orgs.clone(),
            invitations: invitations.clone(),
            photos: photos.clone(),
            events: (events.clone(), settings.events.retention_days),
            webhooks: webhooks.clone(),
            clock: clock.clone(),
        };
        let background = jobs.clone().spawn(crate::background::Schedule {
            uploads: Duration::from_secs(settings.storage.sweep_interval_seconds.max(1)),
            memberships: Duration::from_secs(settings.invitations.sweep_interval_seconds.max(1)),
            outbox: Duration::from_secs(settings.invitations.outbox_interval_seconds.max(1)),
            events: Duration::from_secs(3600),
            webhooks: Duration::from_secs(settings.events.webhook_interval_seconds.max(1)),
        });
        let state = web::Data::new(AppState {
            events,
            organization_events,
            webhooks,
            auth: Authenticator::from_settings(&settings).await?,
            db: db.clone(),
            metrics: Metrics::new()?,
            metrics_token: settings.metrics.bearer_token.clone(),
            body_timeout: Duration::from_secs(settings.server.body_timeout_seconds.max(1)),
            avatars,
            local_store,
            store,
            uploads: jobs.uploads.clone(),
            photos,
            avatar_flow,
            profiles: profile_service(&settings, &db, clock.clone(), deps.pause.clone())?,
            orgs,
            invitations,
            logos,
            preview_limiter: rate_limits.per_minute("invitation_preview", settings.invitations.preview_per_minute),
            accept_limiter: rate_limits.per_minute("invitation_accept", settings.invitations.accept_per_minute),
            trusted_proxies: settings.server.trusted_proxies.get().clone(),
            clock,
            users,
            draining: draining.clone(),
        });
        let dashboard = web::Data::new(routes::dashboard::DashboardPolicy::from_settings(&settings, &public_url));
        let sign_in = web::Data::new(routes::sign_in::SignIn::from_settings(&settings, &public_url)?);
        let cors_origins = settings.server.cors_allowed_origins.get().clone();

        let mut server = HttpServer::new(move || {
            let (app, api) = App::new()
                .into_utoipa_app()
                .openapi(openapi::base())
                .app_data(state.clone())
                .configure(routes::configure)
                .split_for_parts();
            let api = openapi::complete(api);
            app.app_data(web::PayloadConfig::new(crate::extract::BODY_LIMIT))
                .app_data(web::QueryConfig::default().error_handler(crate::extract::query_error))
                .app_data(web::PathConfig::default().error_handler(crate::extract::path_error))
                .app_data(routes::KnownRoutes::from_openapi(&api))
                .route("/docs", web::get().to(routes::docs_redirect))
                .app_data(dashboard.clone())
                .app_data(sign_in.clone())
                .configure(routes::dashboard::configure)
                .service(openapi::docs(api))
                .default_service(web::to(routes::not_found))
                .wrap(Compress::default())
                .wrap(Condition::new(!cors_origins.as_slice().is_empty(), middleware::cors(cors_origins.as_slice())))
                .wrap(from_fn(middleware::request_context))
        })
        .shutdown_timeout(settings.server.shutdown_timeout_seconds)
        // Signals are ours: readiness turns false and the drain runs before
        // actix stops accepting (`run_until_stopped`).
        .disable_signals();
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.listen(listener).context("starting the HTTP server")?.run();
        let drain = Duration::from_secs(settings.server.drain_seconds);
        Ok(Self { addr, public_url, server, db, jobs, background, draining, drain })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The public base URL.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The background jobs, to run once on demand (tests do, instead of waiting for a tick).
    pub fn jobs(&self) -> crate::background::Jobs {
        self.jobs.clone()
    }

    /// A handle that stops the server (gracefully or not).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT or `handle().stop(..)`, draining in-flight requests.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        // Migrated and connected: from here /readyz answers 200 (whoever
        // starts the process can wait for this line instead of polling).
        tracing::info!(addr = %self.addr, "serving");
        let signals = tokio::spawn(drain_on_signal(self.server.handle(), self.draining, self.drain));
        let served = self.server.await.context("running the HTTP server");
        signals.abort();
        self.background.abort();
        served?;
        self.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// On SIGTERM or SIGINT: readiness off, the drain (requests still served, a
/// second signal ends it early), then actix's graceful stop, which closes the
/// listener and lets in-flight requests finish within the shutdown timeout.
async fn drain_on_signal(server: ServerHandle, draining: Arc<AtomicBool>, drain: Duration) {
    let signal = shutdown_signal().await;
    draining.store(true, Ordering::Relaxed);
    if !drain.is_zero() {
        tracing::info!(seconds = drain.as_secs(), "{signal} received; /readyz answers 503 while requests drain");
        tokio::select! {
            () = tokio::time::sleep(drain) => {}
            again = shutdown_signal() => tracing::info!("{again} received again; ending the drain early"),
        }
    }
    tracing::info!("{signal} received; starting graceful shutdown");
    server.stop(true).await;
}

/// Waits for SIGTERM or SIGINT and names it.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only SIGINT stops the server");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
