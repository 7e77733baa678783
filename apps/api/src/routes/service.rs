//! `/healthz`, `/readyz`, `/metrics`.

use crate::error::{ApiError, ProblemBody};
use crate::startup::AppState;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
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

/// The database answers; 503 with `Retry-After` otherwise.
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
    match tokio::time::timeout(READY_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => Ok(web::Json(Status { status: "ready" })),
        Ok(Err(e)) => Err(ApiError::unavailable(e)),
        Err(_) => Err(ApiError::unavailable(anyhow::anyhow!("the database did not answer within {READY_TIMEOUT:?}"))),
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(tag = "service", operation_id = "metrics", responses((status = 200, content_type = "text/plain", body = String)))]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.render(state.db.pool_stats()).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}
