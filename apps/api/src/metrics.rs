//! Prometheus metrics on an app-owned registry (so several apps can live in
//! one process): HTTP requests by matched route, method and status with
//! bounded labels, the outcomes of the use cases operators watch, the
//! invitation outbox, the database pool, the process and the build.
//!
//! Every label value comes from a closed set, so no client can grow the
//! output: a route is its matched pattern or `other`, a method one of the
//! standard ones or `other`, an outcome `ok` or a problem `code`.

use actix_web::http::Method;
use adapter_sql::PoolStats;
use anyhow::Context as _;
use prometheus::{
    Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The label for anything outside a closed set.
const OTHER: &str = "other";

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    outcomes: IntCounterVec,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
    outbox_depth: IntGauge,
}

/// A use case whose outcomes are counted (`usher_use_case_outcomes_total`).
#[derive(Clone, Copy, Debug)]
pub enum UseCase {
    /// `POST /invitation/accept`.
    InvitationAccept,
    /// `POST /user/avatar/finalize`.
    AvatarFinalize,
    /// `POST /organization/logo/finalize`.
    LogoFinalize,
    /// A superuser's decision on a photo verification (approve or reject).
    PhotoDecision,
    /// A superuser's decision on a KYC profile.
    ProfileDecision,
}

impl UseCase {
    const fn label(self) -> &'static str {
        match self {
            Self::InvitationAccept => "invitation_accept",
            Self::AvatarFinalize => "avatar_finalize",
            Self::LogoFinalize => "logo_finalize",
            Self::PhotoDecision => "photo_decision",
            Self::ProfileDecision => "profile_decision",
        }
    }
}

impl Metrics {
    /// Registers every metric on a fresh registry.
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let labels = &["endpoint", "method", "status"];
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by matched route, method and status").namespace("usher"),
            labels,
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "http_requests_duration_seconds",
                "HTTP request latency by matched route, method and status",
            )
            .namespace("usher")
            .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            labels,
        )?;
        let outcomes = IntCounterVec::new(
            Opts::new("use_case_outcomes_total", "Outcomes of watched use cases: ok, or the problem code")
                .namespace("usher"),
            &["use_case", "outcome"],
        )?;
        let pool_connections = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state").namespace("usher"),
            &["state"],
        )?;
        let pool_max =
            IntGauge::with_opts(Opts::new("db_pool_max_connections", "Configured pool size").namespace("usher"))?;
        let outbox_depth = IntGauge::with_opts(
            Opts::new("invitation_outbox_depth", "Invitation e-mails waiting to be sent (neither sent nor abandoned)")
                .namespace("usher"),
        )?;
        let build_info = IntGaugeVec::new(
            Opts::new("build_info", "Always 1; the labels say which build runs").namespace("usher"),
            &["version"],
        )?;
        build_info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(outcomes.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_max.clone()),
            Box::new(outbox_depth.clone()),
            Box::new(build_info),
        ] {
            registry.register(metric).context("registering a metric")?;
        }
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))
            .context("registering the process metrics")?;
        Ok(Self { registry, requests, duration, outcomes, pool_connections, pool_max, outbox_depth })
    }

    /// Records one finished request: `pattern` is the matched route, if any.
    pub fn observe(&self, pattern: Option<&str>, method: &Method, status: u16, seconds: f64) {
        let method = match *method {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            Method::HEAD => "HEAD",
            Method::OPTIONS => "OPTIONS",
            _ => OTHER,
        };
        let status = status.to_string();
        let labels = [pattern.unwrap_or(OTHER), method, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.duration.with_label_values(&labels).observe(seconds);
    }

    /// Counts one outcome of `use_case`: `Ok` is `ok`, an error its problem code.
    pub fn outcome<T>(&self, use_case: UseCase, result: &Result<T, crate::error::ApiError>) {
        let outcome = result.as_ref().map_or_else(crate::error::ApiError::code, |_| "ok");
        self.outcomes.with_label_values(&[use_case.label(), outcome]).inc();
    }

    /// Renders every metric in the Prometheus text format; `outbox` is the
    /// outbox's depth when it could be read (the last value stays otherwise).
    pub fn render(&self, pool: PoolStats, outbox: Option<i64>) -> anyhow::Result<String> {
        if let Some(depth) = outbox {
            self.outbox_depth.set(depth);
        }
        self.pool_connections.with_label_values(&["idle"]).set(i64::from(pool.idle));
        self.pool_connections.with_label_values(&["in_use"]).set(i64::from(pool.size.saturating_sub(pool.idle)));
        self.pool_max.set(i64::from(pool.max));
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out).context("encoding metrics")?;
        String::from_utf8(out).context("metrics are not UTF-8")
    }
}
