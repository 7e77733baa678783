//! The request middleware: request ids, one tracing span per request, and
//! the guarantee that every error leaves as problem+json carrying the request id.

use crate::error::{ApiError, PROBLEM_JSON};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError};
use std::fmt;
use std::time::Instant;
use tracing::Instrument as _;

/// The request id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client-supplied id is honoured when it is 1..=64 visible ASCII characters.
fn acceptable(value: &HeaderValue) -> Option<String> {
    let bytes = value.as_bytes();
    let visible = !bytes.is_empty() && bytes.len() <= 64 && bytes.iter().all(|b| (0x21..=0x7e).contains(b));
    visible.then(|| String::from_utf8_lossy(bytes).into_owned())
}

/// Assigns the request id, opens the request span, logs the outcome, counts
/// it in the metrics, sets the security headers and turns every error or
/// bare error status into problem+json.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let request_id =
        req.headers().get(&REQUEST_ID).and_then(acceptable).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let authenticated = req.headers().contains_key(header::AUTHORIZATION);
    let method = req.method().clone();
    let state = req.app_data::<actix_web::web::Data<crate::state::AppState>>().cloned();
    let docs = req.path() == "/docs" || req.path().starts_with("/docs/");
    // A NUL byte in any query parameter is refused at the door: PostgreSQL
    // cannot store one, and no parameter of this API may hold one.
    if let Some(name) = nul_parameter(req.query_string()) {
        let api = ApiError::invalid_field(&format!("/{name}"), "must not contain NUL characters");
        return Err(Rendered { api, request_id }.into());
    }
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
        user_id = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let _entered = span.enter();

    let mut res = match result {
        Ok(res) => problem_for(res, &request_id),
        Err(err) => {
            // The request is gone with the error, so hand actix an error that
            // renders itself as our problem, request id included.
            let api = api_error_of(&err);
            log_failure(&api);
            tracing::info!(status = api.status().as_u16(), "request finished");
            if let Some(state) = &state {
                state.metrics.observe(None, &method, api.status().as_u16(), started.elapsed().as_secs_f64());
            }
            return Err(Rendered { api, request_id }.into());
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    secure(res.headers_mut(), authenticated, docs);
    let status = res.status().as_u16();
    if let Some(state) = &state {
        state.metrics.observe(
            res.request().match_pattern().as_deref(),
            &method,
            status,
            started.elapsed().as_secs_f64(),
        );
    }
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(status, latency_ms, "request finished");
    Ok(res)
}

/// The Swagger UI's policy: its own scripts and styles (it sets inline
/// styles), no framing, nothing sent anywhere but this service.
pub const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                            script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
                            form-action 'none'";

/// Headers every response carries: no content sniffing; no caching of
/// anything answered to a bearer token (decrypted KYC data is among it);
/// and for the API docs, a Content-Security-Policy that forbids framing.
fn secure(headers: &mut header::HeaderMap, authenticated: bool, docs: bool) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if authenticated {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if docs {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_CSP));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

/// Cross-origin access for the pages of exactly `origins`: the methods and
/// headers the API uses, `X-Request-Id` and `Retry-After` readable, never
/// credentials (the API takes bearer tokens, not cookies). Requests from
/// other origins are served without CORS headers, so browsers refuse them.
pub fn cors(origins: &[String]) -> actix_cors::Cors {
    origins
        .iter()
        .fold(actix_cors::Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT, REQUEST_ID])
        .expose_headers([REQUEST_ID, header::RETRY_AFTER])
        .max_age(600)
}

/// The name of a query parameter whose name or value holds a NUL byte.
fn nul_parameter(query: &str) -> Option<String> {
    if !query.contains('\0') && !query.to_ascii_lowercase().contains("%00") {
        return None;
    }
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| k.replace('\0', "").replace('~', "~0").replace('/', "~1"))
}

/// An error already turned into a problem for a known request id.
struct Rendered {
    api: ApiError,
    request_id: String,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.api, f)
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.api, f)
    }
}

impl ResponseError for Rendered {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.api.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = self.api.to_response(&self.request_id);
        if let Ok(value) = HeaderValue::from_str(&self.request_id) {
            res.headers_mut().insert(REQUEST_ID, value);
        }
        res
    }
}

fn problem_for<B: MessageBody>(res: ServiceResponse<B>, request_id: &str) -> ServiceResponse<EitherBody<B>> {
    if let Some(err) = res.response().error() {
        let api = api_error_of(err);
        log_failure(&api);
        return res.into_response(api.to_response(request_id)).map_into_right_body();
    }
    let status = res.status();
    let is_problem =
        res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if (status.is_client_error() || status.is_server_error()) && !is_problem {
        // A bare status from the router (405 for a known path) or a library.
        let detail = match status.as_u16() {
            405 => format!("{} is not allowed on {}", res.request().method(), res.request().path()),
            _ => status.canonical_reason().unwrap_or("request failed").to_owned(),
        };
        let api = ApiError::from_status(status, detail);
        log_failure(&api);
        return res.into_response(api.to_response(request_id)).map_into_right_body();
    }
    res.map_into_left_body()
}

fn api_error_of(err: &Error) -> ApiError {
    if let Some(api) = err.as_error::<ApiError>() {
        return api.clone_for_response();
    }
    let status = err.as_response_error().status_code();
    if status.is_server_error() {
        ApiError::internal(anyhow::anyhow!("{err}"))
    } else {
        ApiError::from_status(status, err.to_string())
    }
}

fn log_failure(api: &ApiError) {
    if api.status().is_server_error() {
        tracing::error!(code = api.code(), error = ?api, "request failed");
    } else {
        tracing::debug!(code = api.code(), error = %api, "request refused");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_must_be_short_visible_ascii() {
        assert_eq!(acceptable(&HeaderValue::from_static("abc-123")), Some("abc-123".into()));
        assert_eq!(acceptable(&HeaderValue::from_static("has space")), None);
        assert_eq!(acceptable(&HeaderValue::from_str(&"a".repeat(65)).unwrap()), None);
        assert_eq!(acceptable(&HeaderValue::from_str(&"a".repeat(64)).unwrap()), Some("a".repeat(64)));
        assert_eq!(acceptable(&HeaderValue::from_static("")), None);
    }
}
