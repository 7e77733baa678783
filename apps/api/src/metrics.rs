//! Prometheus metrics: request count and latency by route, method and status
//! (actix-web-prom, on an app-owned registry so several apps can live in one
//! process), and database pool gauges refreshed at scrape time.

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use adapter_sql::PoolStats;
use anyhow::Context as _;
use prometheus::{Encoder as _, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};

/// The service's metrics.
pub struct Metrics {
    http: PrometheusMetrics,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
}

impl Metrics {
    /// Registers every metric on a fresh registry.
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let http = PrometheusMetricsBuilder::new("usher")
            .registry(registry.clone())
            .buckets(&[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
            .mask_unmatched_patterns("UNKNOWN")
            .exclude_regex("^/docs")
            .build()
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("registering HTTP metrics")?;
        let pool_connections = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state").namespace("usher"),
            &["state"],
        )?;
        let pool_max =
            IntGauge::with_opts(Opts::new("db_pool_max_connections", "Configured pool size").namespace("usher"))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        Ok(Self { http, pool_connections, pool_max })
    }

    /// The request-recording middleware.
    pub fn middleware(&self) -> PrometheusMetrics {
        self.http.clone()
    }

    /// Renders every metric in the Prometheus text format.
    pub fn render(&self, pool: PoolStats) -> anyhow::Result<String> {
        self.pool_connections.with_label_values(&["idle"]).set(i64::from(pool.idle));
        self.pool_connections.with_label_values(&["in_use"]).set(i64::from(pool.size.saturating_sub(pool.idle)));
        self.pool_max.set(i64::from(pool.max));
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.http.registry.gather(), &mut out).context("encoding metrics")?;
        String::from_utf8(out).context("metrics are not UTF-8")
    }
}
