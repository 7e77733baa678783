//! Wiring: the only file that names concrete adapters. `Application::build`
//! binds the listener first (port 0 works), connects and migrates the
//! database, builds the services and returns a server ready to run.

use crate::auth::Authenticator;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::{middleware, openapi, routes};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use adapter_sql::{Database, PoolSettings, SqlUserRepository};
use anyhow::Context as _;
use shared_kernel::{EmailAddress, SystemClock};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;
use user_dto::{UserPolicy, UserService};
use utoipa_actix_web::AppExt as _;

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
    /// Base of the links the service hands out.
    pub public_url: String,
}

/// A built, not yet running, service.
pub struct Application {
    addr: SocketAddr,
    public_url: String,
    server: Server,
    db: Database,
}

/// Connects to and migrates the configured database.
pub async fn connect_database(settings: &Settings) -> anyhow::Result<Database> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "creating the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let pool = PoolSettings {
        max_connections: settings.max_connections(),
        acquire_timeout: Duration::from_secs(settings.database.acquire_timeout_seconds.max(1)),
    };
    let db = Database::connect(&settings.database_url(), &pool).await?;
    db.migrate().await?;
    Ok(db)
}

/// The user use cases over the given database.
pub fn user_service(settings: &Settings, db: &Database) -> anyhow::Result<UserService> {
    let bootstrap = settings
        .auth
        .bootstrap_superusers
        .iter()
        .map(|e| {
            EmailAddress::parse(e).with_context(|| {
                format!("auth.bootstrap_superusers: {e:?} is not an e-mail address")
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let policy = UserPolicy {
        bootstrap_superusers: bootstrap,
        avatar_tries_per_window: settings.avatar.tries_per_window,
    };
    Ok(UserService::new(
        Arc::new(SqlUserRepository::new(db.clone())),
        Arc::new(SystemClock),
        policy,
    ))
}

impl Application {
    /// Binds, connects, migrates and wires the service.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.server.addr)
            .with_context(|| format!("binding {}", settings.server.addr))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let public_url = settings.public_url(addr);
        tracing::info!(%addr, %public_url, "listening");

        let db = connect_database(&settings).await?;
        let state = web::Data::new(AppState {
            users: user_service(&settings, &db)?,
            auth: Authenticator::from_settings(&settings).await?,
            db: db.clone(),
            metrics: Metrics::new()?,
            public_url: public_url.clone(),
        });
        let prometheus = state.metrics.middleware();

        let mut server = HttpServer::new(move || {
            let (app, api) = App::new()
                .into_utoipa_app()
                .openapi(openapi::base())
                .app_data(state.clone())
                .configure(routes::configure)
                .split_for_parts();
            app.app_data(web::PayloadConfig::new(crate::extract::BODY_LIMIT))
                .app_data(routes::KnownRoutes::from_openapi(&api))
                .route("/docs", web::get().to(routes::docs_redirect))
                .service(openapi::docs(api))
                .default_service(web::to(routes::not_found))
                .wrap(Compress::default())
                .wrap(prometheus.clone())
                .wrap(from_fn(middleware::request_context))
        })
        .shutdown_timeout(settings.server.shutdown_timeout_seconds);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server
            .listen(listener)
            .context("starting the HTTP server")?
            .run();
        Ok(Self {
            addr,
            public_url,
            server,
            db,
        })
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

    /// A handle that stops the server (gracefully or not).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT or `handle().stop(..)`, draining in-flight requests.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server.await.context("running the HTTP server")?;
        self.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
