//! `/healthz`, `/readyz`, `/metrics`.

use crate::codes;
use crate::error::{ApiError, ProblemBody};
use crate::state::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::sync::atomic::Ordering;
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

/// How long readiness waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

/// A health or readiness answer.
#[derive(Serialize, ToSchema)]
pub struct Status {
    /// `ok` or `ready`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is alive.
#[utoipa::path(tag = "service", operation_id = "healthz", responses((status = 200, body = Status)))]
#[get("/healthz")]
async fn healthz() -> web::Json<Status> {
    web::Json(Status { status: "ok" })
}

/// The database answers and the replica is not shutting down; 503 with
/// `Retry-After` otherwise.
#[utoipa::path(
    tag = "service",
    operation_id = "readyz",
    responses(
        (status = 200, body = Status),
        (status = 503, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Status>, ApiError> {
    if state.draining.load(Ordering::Relaxed) {
        return Err(ApiError::dependency_unavailable(
            "this replica is shutting down; retry on another",
            anyhow::anyhow!("draining after a shutdown signal"),
        ));
    }
    match tokio::time::timeout(READY_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => Ok(web::Json(Status { status: "ready" })),
        Ok(Err(e)) => Err(ApiError::unavailable(e)),
        Err(_) => Err(ApiError::unavailable(anyhow::anyhow!("the database did not answer within {READY_TIMEOUT:?}"))),
    }
}

/// Prometheus metrics in the text exposition format. With
/// `metrics.bearer_token` set, only requests bearing that token get them.
#[utoipa::path(
    tag = "service",
    operation_id = "metrics",
    responses(
        (status = 200, content_type = "text/plain", body = String),
        (status = 401, body = ProblemBody, content_type = "application/problem+json", description = "`auth.invalid_token`: `metrics.bearer_token` is set and the request does not bear it"),
    )
)]
#[get("/metrics")]
async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Some(expected) = &state.metrics_token {
        let sent = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        // Digests compared, so the time taken says nothing about the token.
        let digest = |s: &str| Sha256::digest(s.as_bytes());
        if sent.is_none_or(|sent| digest(sent) != digest(expected.expose())) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::AUTH_INVALID_TOKEN,
                "Metrics need their token",
                "send the metrics.bearer_token as a bearer token",
            ));
        }
    }
    let outbox =
        state.db.outbox_depth().await.inspect_err(|e| tracing::warn!(error = ?e, "reading the outbox depth")).ok();
    let text = state.metrics.render(state.db.pool_stats(), outbox).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}
