//! The embedded object store's HTTP face: `PUT /uploads/{key}` (the target
//! of the local presigned URLs, authorised by their signature) and
//! `GET /files/{key}` (finalized images, immutable, never `tmp/`). With an S3
//! store configured both answer 404: objects live at the store's own URLs.

use crate::codes;
use crate::error::{ApiError, ProblemBody};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, put, route, web};
use adapter_s3::local::{LocalPutError, LocalWriteError, UploadQuery};
use futures_util::StreamExt as _;
use image_upload::ObjectKey;
use tokio::io::AsyncReadExt as _;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(put_upload).service(get_file);
}

fn not_found(path: &str) -> ApiError {
    ApiError::not_found(codes::HTTP_NOT_FOUND, format!("no object at {path}"))
}

fn put_refused(e: LocalPutError) -> ApiError {
    match e {
        LocalPutError::Expired => {
            ApiError::forbidden(codes::UPLOAD_URL_EXPIRED, "the upload URL has expired; ask for a new ticket")
        }
        LocalPutError::BadSignature => {
            ApiError::forbidden(codes::UPLOAD_SIGNATURE_INVALID, "the upload URL's signature is invalid")
        }
        LocalPutError::WrongContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UPLOAD_CONTENT_TYPE_MISMATCH,
            "Unsupported media type",
            "send the Content-Type the upload ticket was issued for",
        ),
        LocalPutError::InProgress => ApiError::new(
            StatusCode::CONFLICT,
            codes::UPLOAD_IN_PROGRESS,
            "Upload in progress",
            "another upload to this URL is still being received; wait for it to finish",
        ),
        LocalPutError::Saturated => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::UPLOAD_BUSY,
            "Too many uploads",
            "the service is receiving as many uploads as it takes at once; retry shortly",
        )
        .with_retry_after(crate::error::UNAVAILABLE_RETRY_AFTER),
        LocalPutError::Io(e) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::STORAGE_UNAVAILABLE,
            "Storage unavailable",
            "the upload could not be stored; retry shortly",
        )
        .with_source(e.into())
        .with_retry_after(crate::error::UNAVAILABLE_RETRY_AFTER),
    }
}

/// The target of an embedded presigned upload URL.
#[utoipa::path(
    tag = "image-upload",
    operation_id = "local-upload",
    params(
        ("key" = String, Path, description = "The ticket's tmpKey"),
        ("expires" = i64, Query, description = "Unix time the URL expires"),
        ("contentType" = String, Query, description = "The signed content type"),
        ("signature" = String, Query, description = "HMAC over method, key, content type and expiry"),
    ),
    request_body(content = Vec<u8>, content_type = "image/png", description = "The image bytes, with the signed Content-Type"),
    responses(
        (status = 200, description = "Stored"),
        (status = 403, description = "`upload.signature_invalid` or `upload.url_expired`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 408, description = "`request.body_timeout`: the body did not arrive within 4 × `server.body_timeout_seconds`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`upload.ticket_invalid`: the ticket was already used, rejected or expired; `upload.in_progress`: another upload to this URL is still being received", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "`upload.busy`: as many uploads as the service takes at once are being received; retry after `Retry-After` seconds", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, description = "`upload.too_large`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "`upload.content_type_mismatch`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[put("/uploads/{key:.*}")]
async fn put_upload(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Some(local) = &state.local_store else { return Err(not_found(req.path())) };
    let key = ObjectKey::parse(&path).map_err(|_| not_found(req.path()))?;
    if !key.is_temporary() {
        return Err(not_found(req.path()));
    }
    let query = web::Query::<UploadQuery>::from_query(req.query_string())
        .map_err(|_| ApiError::forbidden(codes::UPLOAD_SIGNATURE_INVALID, "the upload URL is missing its signature"))?;
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    // The local store signs with the app's clock, so it is checked with it too.
    local.verify_put(&key, &query, content_type, state.clock.now()).map_err(put_refused)?;
    // Once its ticket is used, rejected or expired, the key takes no more bytes
    // (the copy finalize checked is what is published, whatever comes later).
    if !state.uploads.accepts_upload(&key).await.map_err(ApiError::unexpected)? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::UPLOAD_TICKET_INVALID,
            "Upload ticket used",
            "this upload's ticket was already used, rejected or has expired; ask for a new one",
        ));
    }

    let limit = state.avatars.policy().max_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::UPLOAD_TOO_LARGE,
            "Upload too large",
            format!("images may be at most {limit} bytes"),
        )
    };
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let mut upload = local.begin_write(&key, limit).await.map_err(put_refused)?;
    // A slow client holds a slot, a descriptor and a partial file: the body
    // gets a deadline (dropping the upload removes the partial file).
    let receive = async {
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::malformed(format!("could not read the body: {e}")))?;
            upload.append(&chunk).await.map_err(|e| match e {
                LocalWriteError::TooLarge { .. } => too_large(),
                LocalWriteError::Io(e) => put_refused(LocalPutError::Io(e)),
            })?;
        }
        Ok::<(), ApiError>(())
    };
    let deadline = state.body_timeout * crate::extract::UPLOAD_TIMEOUT_FACTOR;
    tokio::time::timeout(deadline, receive).await.map_err(|_| crate::extract::body_timed_out(deadline))??;
    upload.finish().await.map_err(|e| match e {
        LocalWriteError::TooLarge { .. } => too_large(),
        LocalWriteError::Io(e) => put_refused(LocalPutError::Io(e)),
    })?;
    Ok(HttpResponse::Ok().finish())
}

/// A finalized image from the embedded store; immutable, so cached for a year.
#[utoipa::path(
    get,
    path = "/files/{key}",
    tag = "image-upload",
    operation_id = "local-file",
    params(
        ("key" = String, Path, description = "The object key, e.g. avatars/42/….png"),
        ("expires" = Option<i64>, Query, description = "For a private (unreviewed) object: when its signed URL expires"),
        ("signature" = Option<String>, Query, description = "For a private object: the URL's signature"),
    ),
    responses(
        (status = 200, description = "The image", content_type = "image/*", body = Vec<u8>),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[route("/files/{key:.*}", method = "GET", method = "HEAD")]
async fn get_file(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(local) = &state.local_store else { return Err(not_found(req.path())) };
    let key = ObjectKey::parse(&path).map_err(|_| not_found(req.path()))?;
    // A private object (an unreviewed photo) is served only under a valid signature.
    let signed = web::Query::<SignedGet>::from_query(req.query_string())
        .is_ok_and(|q| local.verify_get(&key, q.expires, &q.signature, state.clock.now()));
    let opened = local.open(&key, signed).await.map_err(|e| ApiError::internal(e.into()))?;
    let Some((file, len, image)) = opened else { return Err(not_found(req.path())) };
    let cache = if key.is_private() { "private, no-store" } else { "public, max-age=31536000, immutable" };
    // Streamed from disk in chunks: a slow reader holds one chunk, never the whole object.
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(web::Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(image.mime())))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(cache)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .insert_header((header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox")))
        .body(actix_web::body::SizedStream::new(len, chunks)))
}

/// The signed query of a private object's URL.
#[derive(serde::Deserialize)]
struct SignedGet {
    expires: i64,
    signature: String,
}
