//! Every error the API returns, as RFC 9457 `application/problem+json`:
//! `{type, title, status, detail, code, errors?, requestId}`.
//!
//! Handlers return [`ApiError`]; the request middleware adds the request id
//! and logs the full error chain of a 5xx, whose body never carries internals.
//! Domain errors are mapped to codes here, in one place.

use crate::auth::AuthError;
use crate::avatar_flow::AvatarFlowError;
use crate::codes;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use image_upload::{FinalizeError, StoreError, TicketError};
use organizations::{AcceptError, InvitationError, LogoError, OrgError, QuotaExceeded, Refusal};
use photo_verification::{DecisionError, DiscordError, OpenError, ReviewError};
use profile_verification::{InvalidFields, KeyUnavailable, ProfileError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use users::{AdminUserError, AvatarError, EraseError, SignInError, UserError};

/// The problem+json media type.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client should wait before retrying when the database is unavailable.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// An error response (boxed: it travels in every handler's `Result`).
pub struct ApiError(Box<Problem>);

struct Problem {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    errors: Option<BTreeMap<String, Vec<String>>>,
    retry_after: Option<u64>,
    allow: Option<String>,
    current: Option<serde_json::Value>,
    source: Option<anyhow::Error>,
}

/// The problem+json body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Problem)]
pub struct ProblemBody {
    /// A URI naming the problem type (`urn:usher:problem:<code>`).
    #[serde(rename = "type")]
    #[schema(example = "urn:usher:problem:request.validation")]
    pub kind: String,
    /// A short summary of the problem type.
    #[schema(example = "Validation failed")]
    pub title: String,
    /// The HTTP status.
    #[schema(example = 422)]
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// Stable dotted machine code.
    #[schema(example = "request.validation")]
    pub code: String,
    /// For 422s: JSON pointer of each invalid field → messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
    /// The request id, also in the `X-Request-Id` header and every log line.
    pub request_id: String,
    /// For a 409 on a compare-and-set (`photo.conflict`): the record as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<serde_json::Value>,
}

impl ApiError {
    /// A problem with the given status, code, title and detail.
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(Problem {
            status,
            code,
            title,
            detail: detail.into(),
            errors: None,
            retry_after: None,
            allow: None,
            current: None,
            source: None,
        }))
    }

    /// 400: the body or query could not be parsed.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, codes::REQUEST_MALFORMED, "Malformed request", detail)
    }

    /// 401: no usable credentials.
    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, "Unauthorized", detail)
    }

    /// 403: authenticated but not allowed.
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, "Forbidden", detail)
    }

    /// 404: no such route or record.
    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, "Not found", detail)
    }

    /// 422 with per-field messages keyed by JSON pointer.
    pub fn validation(errors: BTreeMap<String, Vec<String>>) -> Self {
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        let detail = format!("invalid fields: {}", fields.join(", "));
        let mut err =
            Self::new(StatusCode::UNPROCESSABLE_ENTITY, codes::REQUEST_VALIDATION, "Validation failed", detail);
        err.0.errors = Some(errors);
        err
    }

    /// 422 for one field.
    pub fn invalid_field(pointer: &str, message: impl Into<String>) -> Self {
        Self::validation(BTreeMap::from([(pointer.to_owned(), vec![message.into()])]))
    }

    /// Replaces the machine code (for a 422 whose code names the field, as
    /// barong's `first_name.invalid`).
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.0.code = code;
        self
    }

    /// 503: the database is unavailable; retry later.
    pub fn unavailable(source: anyhow::Error) -> Self {
        Self::dependency_unavailable("the database is unavailable; retry shortly", source)
    }

    /// 503 `service.unavailable` with `Retry-After`, for any dependency
    /// (`detail` names it; `source` is logged, never sent).
    pub fn dependency_unavailable(detail: &'static str, source: anyhow::Error) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, codes::SERVICE_UNAVAILABLE, "Service unavailable", detail)
            .with_retry_after(UNAVAILABLE_RETRY_AFTER)
            .with_source(source)
    }

    /// 500: a bug or an unclassified failure. The body says nothing more.
    pub fn internal(source: anyhow::Error) -> Self {
        let mut err = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::SERVICE_INTERNAL,
            "Internal error",
            "the request failed; quote the request id when reporting it",
        );
        err.0.source = Some(source);
        err
    }

    /// 500 for a variant a domain crate added after this mapping was
    /// written (their errors are `#[non_exhaustive]`): logged with its
    /// text, so the missing mapping is found.
    pub fn unmapped(error: impl fmt::Display) -> Self {
        Self::internal(anyhow::anyhow!("an error variant without a mapping in error.rs: {error}"))
    }

    /// 503 or 500, depending on whether the chain says the database is down.
    pub fn unexpected(source: anyhow::Error) -> Self {
        // A use case passing an object-store failure on keeps its meaning
        // (an unavailable store is a 503 to retry, not a 500).
        let source = match source.downcast::<StoreError>() {
            Ok(store) => return store.into(),
            Err(source) => source,
        };
        if adapter_sql::is_unavailable(&source) { Self::unavailable(source) } else { Self::internal(source) }
    }

    /// A generic problem for a status produced outside our handlers (for
    /// example 405 from the router).
    pub fn from_status(status: StatusCode, detail: impl Into<String>) -> Self {
        let (code, title) = match status {
            StatusCode::BAD_REQUEST => (codes::REQUEST_MALFORMED, "Malformed request"),
            StatusCode::UNAUTHORIZED => (codes::AUTH_UNAUTHORIZED, "Unauthorized"),
            StatusCode::FORBIDDEN => (codes::AUTH_FORBIDDEN, "Forbidden"),
            StatusCode::NOT_FOUND => (codes::HTTP_NOT_FOUND, "Not found"),
            StatusCode::METHOD_NOT_ALLOWED => (codes::HTTP_METHOD_NOT_ALLOWED, "Method not allowed"),
            StatusCode::PAYLOAD_TOO_LARGE => (codes::REQUEST_BODY_TOO_LARGE, "Request body too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (codes::REQUEST_UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
            StatusCode::SERVICE_UNAVAILABLE => (codes::SERVICE_UNAVAILABLE, "Service unavailable"),
            s if s.is_server_error() => (codes::SERVICE_INTERNAL, "Internal error"),
            _ => (codes::HTTP_ERROR, "Request failed"),
        };
        Self::new(status, code, title, detail)
    }

    /// A copy for rendering: everything but the source chain, which is
    /// summarised as text so a 5xx can still be logged with its cause.
    pub fn clone_for_response(&self) -> Self {
        let p = &self.0;
        Self(Box::new(Problem {
            status: p.status,
            code: p.code,
            title: p.title,
            detail: p.detail.clone(),
            errors: p.errors.clone(),
            retry_after: p.retry_after,
            allow: p.allow.clone(),
            current: p.current.clone(),
            source: p.source.as_ref().map(|e| anyhow::anyhow!("{e:?}")),
        }))
    }

    /// 429: no upload tries left for `what` (`avatar`, `logo`) until
    /// `retry_after` has passed (whole seconds, at least one, in `Retry-After`).
    pub fn upload_tries_exhausted(code: &'static str, what: &str, retry_after: time::Duration) -> Self {
        let seconds = u64::try_from(retry_after.whole_seconds()).unwrap_or(1).max(1);
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            code,
            "Too many uploads",
            format!("no {what} upload tries left; the next one frees up in {seconds} s"),
        )
        .with_retry_after(seconds)
    }

    /// Attaches the underlying error chain (logged, never sent).
    pub fn with_source(mut self, source: anyhow::Error) -> Self {
        self.0.source = Some(source);
        self
    }

    /// Sets `Allow` (for 405).
    pub fn with_allow(mut self, methods: String) -> Self {
        self.0.allow = Some(methods);
        self
    }

    /// Adds the `current` extension member: the record as it is now (409s).
    pub fn with_current(mut self, current: serde_json::Value) -> Self {
        self.0.current = Some(current);
        self
    }

    /// Sets `Retry-After`.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.0.retry_after = Some(seconds);
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The machine code.
    pub fn code(&self) -> &'static str {
        self.0.code
    }

    /// The body, for the given request id.
    pub fn body(&self, request_id: &str) -> ProblemBody {
        ProblemBody {
            kind: format!("urn:usher:problem:{}", self.0.code),
            title: self.0.title.to_owned(),
            status: self.0.status.as_u16(),
            detail: self.0.detail.clone(),
            code: self.0.code.to_owned(),
            errors: self.0.errors.clone(),
            request_id: request_id.to_owned(),
            current: self.0.current.clone(),
        }
    }

    /// The full response, for the given request id.
    pub fn to_response(&self, request_id: &str) -> HttpResponse {
        let mut res = HttpResponse::build(self.0.status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        res.insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")));
        if let Some(seconds) = self.0.retry_after {
            res.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if let Some(allow) = &self.0.allow {
            res.insert_header((header::ALLOW, allow.as_str()));
        }
        if self.0.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        let body = serde_json::to_string(&self.body(request_id))
            .unwrap_or_else(|_| String::from(r#"{"title":"Internal error","status":500}"#));
        res.body(body)
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.0.status.as_u16(), self.0.code, self.0.detail)?;
        if let Some(source) = &self.0.source {
            write!(f, "\ncaused by: {source:?}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code, self.0.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        // The request middleware re-renders this with the request id; this
        // body is only seen if the error escapes it.
        self.to_response("")
    }
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::NotFound => Self::unauthorized(codes::AUTH_USER_GONE, "the signed-in user no longer exists"),
            UserError::Unexpected(e) => Self::unexpected(e),
            other => Self::unmapped(other),
        }
    }
}

impl From<SignInError> for ApiError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::EmailMissing => Self::unauthorized(
                codes::AUTH_EMAIL_MISSING,
                "the token has no `email` claim, which is needed to create your user",
            ),
            SignInError::Erased => Self::forbidden(
                codes::AUTH_ACCOUNT_ERASED,
                "this account was erased on request and cannot be signed in to; sign up again with a new account",
            ),
            SignInError::Gone => Self::unauthorized(codes::AUTH_USER_GONE, "the signed-in user no longer exists"),
            SignInError::Unexpected(e) => Self::unexpected(e),
            other => Self::unmapped(other),
        }
    }
}

impl From<EraseError> for ApiError {
    fn from(e: EraseError) -> Self {
        let detail = e.to_string();
        match e {
            EraseError::Forbidden => Self::forbidden(codes::AUTH_SUPERUSER_REQUIRED, detail),
            EraseError::OwnAccount => Self::forbidden(codes::USER_ERASE_OWN_ACCOUNT, detail),
            EraseError::NotFound => Self::not_found(codes::USER_NOT_FOUND, detail),
            EraseError::Unexpected(e) => Self::unexpected(e),
            other => Self::unmapped(other),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(source) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::STORAGE_UNAVAILABLE,
                "Storage unavailable",
                "the object store is unavailable; retry shortly",
            )
            .with_retry_after(UNAVAILABLE_RETRY_AFTER)
            .with_source(source),
            StoreError::Upstream(source) => Self::new(
                StatusCode::BAD_GATEWAY,
                codes::STORAGE_FAILED,
                "Storage failed",
                "the object store refused the request",
            )
            .with_source(source),
            // An object a use case expected has gone (deleted by a concurrent request).
            StoreError::Missing(key) => Self::new(
                StatusCode::CONFLICT,
                codes::STORAGE_MISSING,
                "Object gone",
                format!("the object {key} no longer exists; a concurrent request changed it"),
            ),
            other => Self::unmapped(other),
        }
    }
}

impl From<TicketError> for ApiError {
    fn from(e: TicketError) -> Self {
        match e {
            TicketError::UnsupportedType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UPLOAD_UNSUPPORTED_TYPE,
                "Unsupported media type",
                e.to_string(),
            ),
            TicketError::Exhausted { retry_after } => {
                Self::upload_tries_exhausted(codes::AVATAR_UPLOAD_TRIES_EXHAUSTED, "avatar", retry_after)
            }
            TicketError::Store(e) => e.into(),
            TicketError::Unexpected(e) => Self::unexpected(e),
            other => Self::unmapped(other),
        }
    }
}

impl From<FinalizeError> for ApiError {
    fn from(e: FinalizeError) -> Self {
        let detail = e.to_string();
        let (status, code, title) = match e {
            FinalizeError::TicketNotFound => {
                (StatusCode::NOT_FOUND, codes::UPLOAD_TICKET_INVALID, "Upload ticket invalid")
            }
            FinalizeError::TicketUsed => (StatusCode::CONFLICT, codes::UPLOAD_TICKET_INVALID, "Upload ticket invalid"),
            FinalizeError::TicketExpired => (StatusCode::GONE, codes::UPLOAD_TICKET_INVALID, "Upload ticket invalid"),
            FinalizeError::NotUploaded => (StatusCode::CONFLICT, codes::UPLOAD_NOT_FOUND, "Nothing uploaded"),
            FinalizeError::TooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, codes::UPLOAD_TOO_LARGE, "Upload too large")
            }
            FinalizeError::ContentMismatch { .. } => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, codes::UPLOAD_CONTENT_MISMATCH, "Content does not match")
            }
            FinalizeError::Dimensions { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, codes::UPLOAD_DIMENSIONS, "Image too large")
            }
            FinalizeError::Store(e) => return e.into(),
            FinalizeError::Unexpected(e) => return Self::unexpected(e),
            other => return Self::unmapped(other),
        };
        Self::new(status, code, title, detail)
    }
}

impl From<AvatarError> for ApiError {
    fn from(e: AvatarError) -> Self {
        match e {
            AvatarError::Ticket(e) => e.into(),
            AvatarError::Finalize(e) => e.into(),
            AvatarError::UserGone => Self::unauthorized(codes::AUTH_USER_GONE, "the signed-in user no longer exists"),
            AvatarError::Unexpected(e) => Self::unexpected(e),
            other => Self::unmapped(other),
        }
    }
}

impl From<DiscordError> for ApiError {
    fn from(e: DiscordError) -> Self {
        let detail = e.to_string();
        match e {
            DiscordError::InvalidId => Self::invalid_field("/discordId", detail),
            DiscordError::NotConfigured => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::DISCORD_NOT_CONFIGURED,
                "Discord not configured",
                "the Discord integration is not configured (discord.bot_token)",
            ),
            DiscordError::UserNotFound => Self::not_found(codes::DISCORD_USER_NOT_FOUND, detail),
            DiscordError::Unauthorized => {
                Self::new(StatusCode::BAD_GATEWAY, codes::DISCORD_UNAUTHORIZED, "Discord refused us", detail)
            }
            DiscordError::RateLimited { retry_after_seconds } => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, codes::DISCORD_RATE_LIMITED, "Discord rate limit", detail)
                    .with_retry_after(retry_after_seconds)
            }
            DiscordError::Unavailable(source) => Self::new(
                StatusCode::BAD_GATEWAY,
                codes::DISCORD_UNAVAILABLE,
                "Discord unavailable",
                "Discord could not be reached; retry shortly",
            )
            .with_source(source),
            other => Self::unmapped(other),
        }
    }
}

impl From<DecisionError> for ApiError {
    fn from(e: DecisionError) -> Self {
        let detail = e.to_string();
        match e {
            DecisionError::Forbidden => Self::forbidden(codes::AUTH_SUPERUSER_REQUIRED, detail),
            DecisionError::OwnPhoto => Self::forbidden(codes::PHOTO_OWN_VERIFICATION, detail),
            DecisionError::AlreadyDecided { .. } => {
                Self::new(StatusCode::CONFLICT, codes::PHOTO_ALREADY_DECIDED, "Already decided", detail)
            }
            DecisionError::DiscordNotLinked => {
                Self::new(StatusCode::CONFLICT, codes::PHOTO_DISCORD_NOT_LINKED, "Discord not linked", detail)
            }
            DecisionError::DiscordNotFetched => {
                Self::new(StatusCode::CONFLICT, codes::PHOTO_DISCORD_NOT_FETCHED, "Discord avatar not read", detail)
            }
            other => Self::unmapped(other),
        }
    }
}

impl From<ReviewError> for ApiError {
    fn from(e: ReviewError) -> Self {
        let detail = e.to_string();
        match e {
            ReviewError::NotFound => Self::not_found(codes::PHOTO_NOT_FOUND, detail),
            ReviewError::NoPendingVerification => Self::not_found(codes::PHOTO_NO_PENDING_VERIFICATION, detail),
            ReviewError::PictureForbidden => Self::forbidden(codes::PICTURE_FORBIDDEN, detail),
            ReviewError::Decision(e) => e.into(),
            ReviewError::AlreadyDecided(current) => {
                Self::new(StatusCode::CONFLICT, codes::PHOTO_ALREADY_DECIDED, "Already decided", detail)
                    .with_current(verification_json(&current))
            }
            ReviewError::Conflict(current) => {
                Self::new(StatusCode::CONFLICT, codes::PHOTO_CONFLICT, "Conflict", detail)
                    .with_current(verification_json(&current))
            }
            ReviewError::Discord(e) => e.into(),
            ReviewError::Unexpected(e) => Self::unexpected(e),
            other => Self::unmapped(other),
        }
    }
}

/// A verification as the `current` member of a 409.
fn verification_json(v: &photo_verification::PhotoVerification) -> serde_json::Value {
    serde_json::to_value(crate::wire::photos::VerificationDto::from_record(v, None)).unwrap_or_default()
}

impl From<OpenError> for ApiError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::TicketUsed => FinalizeError::TicketUsed.into(),
            OpenError::UserGone => Self::unauthorized(codes::AUTH_USER_GONE, "the signed-in user no longer exists"),
            OpenError::RejectedFinal => Self::forbidden(
                codes::PHOTO_REJECTED_FINAL,
                "your last photo was rejected and may not be replaced; contact an administrator",
            ),
            OpenError::Unexpected(e) => Self::unexpected(e),
            other => Self::unmapped(other),
        }
    }
}

impl From<AdminUserError> for ApiError {
    fn from(e: AdminUserError) -> Self {
        let detail = e.to_string();
        match e {
            AdminUserError::Forbidden => Self::forbidden(codes::AUTH_SUPERUSER_REQUIRED, detail),
            AdminUserError::NotFound => Self::not_found(codes::USER_NOT_FOUND, detail),
            AdminUserError::DiscordIdTaken => {
                Self::new(StatusCode::CONFLICT, codes::USER_DISCORD_ID_TAKEN, "Discord id taken", detail)
            }
            AdminUserError::UsernameTaken => {
                Self::new(StatusCode::CONFLICT, codes::USER_USERNAME_TAKEN, "Username taken", detail)
            }
            AdminUserError::LastSuperuser => {
                Self::new(StatusCode::CONFLICT, codes::ADMIN_LAST_SUPERUSER, "Last superuser", detail)
            }
            AdminUserError::Unexpected(e) => Self::unexpected(e),
            other => Self::unmapped(other),
        }
    }
}

impl From<InvalidFields> for ApiError {
    /// 422 whose `code` is the first invalid field's code in record order
    /// (`first_name.invalid`, `metadata.invalid_format`, `country.missing`)
    /// and whose `errors` map every invalid field's JSON pointer to
    /// `[code, explanation]`.
    fn from(e: InvalidFields) -> Self {
        let errors: BTreeMap<String, Vec<String>> = e
            .problems()
            .iter()
            .map(|p| (format!("/{}", p.field.json_name()), vec![p.code.to_owned(), p.message.to_owned()]))
            .collect();
        let code = e.problems().first().map_or(codes::REQUEST_VALIDATION, |p| p.code);
        Self::validation(errors).with_code(code)
    }
}

impl From<ProfileError> for ApiError {
    fn from(e: ProfileError) -> Self {
        let detail = e.to_string();
        match e {
            ProfileError::Invalid(invalid) => invalid.into(),
            ProfileError::OpenProfileExists => {
                Self::new(StatusCode::CONFLICT, codes::RESOURCE_PROFILE_EXISTS, "Profile exists", detail)
            }
            ProfileError::NotEditable => Self::not_found(codes::RESOURCE_PROFILE_DOESNT_EXIST_OR_NOT_EDITABLE, detail),
            ProfileError::NotDecidable => Self::new(
                StatusCode::CONFLICT,
                codes::ADMIN_PROFILES_DOESNT_EXIST_OR_NOT_EDITABLE,
                "Profile not decidable",
                detail,
            ),
            ProfileError::ProfileNotFound => Self::not_found(codes::ADMIN_PROFILES_DOESNT_EXIST, detail),
            ProfileError::UserNotFound => Self::not_found(codes::ADMIN_USER_DOESNT_EXIST, detail),
            ProfileError::SecondAdminApproval => Self::forbidden(codes::ADMIN_PROFILES_SECOND_ADMIN_APPROVAL, detail),
            ProfileError::OwnProfile => Self::forbidden(codes::ADMIN_PROFILES_OWN_PROFILE, detail),
            ProfileError::Conflict(current) => {
                Self::new(StatusCode::CONFLICT, codes::ADMIN_PROFILES_CONFLICT, "Conflict", detail)
                    .with_current(crate::wire::profiles::profile_json(&current))
            }
            ProfileError::RejectedFinal => Self::forbidden(codes::RESOURCE_PROFILE_REJECTED_FINAL, detail),
            ProfileError::Forbidden => Self::forbidden(codes::AUTH_SUPERUSER_REQUIRED, detail),
            ProfileError::Unexpected(e) if e.downcast_ref::<KeyUnavailable>().is_some() => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::PROFILE_KEY_UNAVAILABLE,
                "Encryption key unavailable",
                "this instance cannot open a stored profile: its encryption key is not configured here \
                 (replicas must share profiles.encryption_keys); retry later or tell the operator",
            )
            .with_retry_after(UNAVAILABLE_RETRY_AFTER)
            .with_source(e),
            ProfileError::Unexpected(e) => Self::unexpected(e),
            other => Self::unmapped(other),
        }
    }
}

impl From<OrgError> for ApiError {
    fn from(e: OrgError) -> Self {
        let detail = e.to_string();
        let (status, code, title) = match e {
            OrgError::NotMember => (StatusCode::FORBIDDEN, codes::ORGANIZATION_NOT_MEMBER, "Not a member"),
            OrgError::Forbidden { .. } => (StatusCode::FORBIDDEN, codes::ORGANIZATION_FORBIDDEN, "Role too low"),
            OrgError::RoleNotAllowed(_) => {
                (StatusCode::FORBIDDEN, codes::ORGANIZATION_ROLE_NOT_ALLOWED, "Role not allowed")
            }
            OrgError::OutOfScope => (StatusCode::FORBIDDEN, codes::ORGANIZATION_OUT_OF_SCOPE, "Outside your zones"),
            OrgError::BeyondOwnTerm => {
                (StatusCode::FORBIDDEN, codes::ORGANIZATION_BEYOND_OWN_TERM, "Beyond your own term")
            }
            OrgError::EndInPast => return Self::invalid_field("/expiresAt", detail),
            OrgError::MemberNotFound => (StatusCode::NOT_FOUND, codes::ORGANIZATION_MEMBER_NOT_FOUND, "No such member"),
            OrgError::UserNotFound => (StatusCode::NOT_FOUND, codes::USER_NOT_FOUND, "No such user"),
            OrgError::OrganizationNotFound => {
                (StatusCode::NOT_FOUND, codes::ORGANIZATION_NOT_FOUND, "No such organization")
            }
            OrgError::ZoneNotFound => (StatusCode::NOT_FOUND, codes::ORGANIZATION_ZONE_NOT_FOUND, "No such zone"),
            OrgError::ZoneNameTaken => (StatusCode::CONFLICT, codes::ORGANIZATION_ZONE_NAME_TAKEN, "Zone name taken"),
            OrgError::LastAdmin => (StatusCode::CONFLICT, codes::ORGANIZATION_LAST_ADMIN, "Last admin"),
            OrgError::Quota(q) => return q.into(),
            OrgError::NotSuperuser => (StatusCode::FORBIDDEN, codes::AUTH_SUPERUSER_REQUIRED, "Forbidden"),
            OrgError::Conflict => (StatusCode::CONFLICT, codes::ORGANIZATION_CONFLICT, "Concurrent change"),
            OrgError::Unexpected(e) => return Self::unexpected(e),
            other => return Self::unmapped(other),
        };
        Self::new(status, code, title, detail)
    }
}

impl From<QuotaExceeded> for ApiError {
    fn from(q: QuotaExceeded) -> Self {
        let code = match q.quota {
            "organizations_per_user_per_day" => codes::QUOTA_ORGANIZATIONS_PER_USER_PER_DAY,
            "emails_per_organization_per_hour" => codes::QUOTA_EMAILS_PER_ORGANIZATION_PER_HOUR,
            "emails_per_recipient_per_day" => codes::QUOTA_EMAILS_PER_RECIPIENT_PER_DAY,
            "pending_invitations_per_organization" => codes::QUOTA_PENDING_INVITATIONS_PER_ORGANIZATION,
            _ => codes::QUOTA_EXCEEDED,
        };
        let seconds = u64::try_from(q.retry_after.whole_seconds()).unwrap_or(1).max(1);
        Self::new(StatusCode::TOO_MANY_REQUESTS, code, "Quota exceeded", q.to_string()).with_retry_after(seconds)
    }
}

impl From<InvitationError> for ApiError {
    fn from(e: InvitationError) -> Self {
        let detail = e.to_string();
        let (status, code, title) = match e {
            InvitationError::Org(e) => return e.into(),
            InvitationError::NotFound => (StatusCode::NOT_FOUND, codes::INVITATION_NOT_FOUND, "No such invitation"),
            InvitationError::NotAddressee => {
                (StatusCode::FORBIDDEN, codes::INVITATION_WRONG_PERSON, "Not your invitation")
            }
            InvitationError::OpenLink => (StatusCode::CONFLICT, codes::INVITATION_OPEN_LINK, "Open link"),
            InvitationError::NotPending(_) => (StatusCode::CONFLICT, codes::INVITATION_NOT_PENDING, "Not pending"),
            InvitationError::BoundIsSingleUse => return Self::invalid_field("/maxUses", detail),
            InvitationError::UnknownUser => (StatusCode::NOT_FOUND, codes::USER_NOT_FOUND, "No such user"),
            InvitationError::Conflict => (StatusCode::CONFLICT, codes::INVITATION_CONFLICT, "Concurrent change"),
            InvitationError::Unexpected(e) => return Self::unexpected(e),
            other => return Self::unmapped(other),
        };
        Self::new(status, code, title, detail)
    }
}

impl From<AcceptError> for ApiError {
    fn from(e: AcceptError) -> Self {
        let detail = e.to_string();
        let (status, code, title) = match e {
            AcceptError::Refused(refusal) => match refusal {
                Refusal::Revoked => (StatusCode::GONE, codes::INVITATION_REVOKED, "Invitation revoked"),
                Refusal::Rejected => (StatusCode::GONE, codes::INVITATION_REJECTED, "Invitation rejected"),
                Refusal::Expired => (StatusCode::GONE, codes::INVITATION_EXPIRED, "Invitation expired"),
                Refusal::UsedUp => (StatusCode::GONE, codes::INVITATION_USED_UP, "Invitation used up"),
                Refusal::WrongPerson => (StatusCode::FORBIDDEN, codes::INVITATION_WRONG_PERSON, "Not your invitation"),
                Refusal::EmailMismatch => (StatusCode::FORBIDDEN, codes::INVITATION_EMAIL_MISMATCH, "Other e-mail"),
                Refusal::EmailUnverified => {
                    (StatusCode::FORBIDDEN, codes::INVITATION_EMAIL_UNVERIFIED, "E-mail not verified")
                }
                Refusal::Blocked => {
                    (StatusCode::FORBIDDEN, codes::INVITATION_BLOCKED, "Blocked from this organization")
                }
                Refusal::ExternalMember => {
                    (StatusCode::CONFLICT, codes::INVITATION_EXTERNAL_MEMBER, "Already a member")
                }
                Refusal::AlreadyMember => (StatusCode::CONFLICT, codes::INVITATION_ALREADY_MEMBER, "Already a member"),
                Refusal::WouldWiden => (StatusCode::CONFLICT, codes::INVITATION_WOULD_WIDEN, "Would widen your role"),
            },
            AcceptError::NotFound => (StatusCode::NOT_FOUND, codes::INVITATION_NOT_FOUND, "No such invitation"),
            AcceptError::UserGone => (StatusCode::UNAUTHORIZED, codes::AUTH_USER_GONE, "Unauthorized"),
            AcceptError::Conflict => (StatusCode::CONFLICT, codes::INVITATION_CONFLICT, "Concurrent change"),
            AcceptError::Unexpected(e) => return Self::unexpected(e),
            other => return Self::unmapped(other),
        };
        Self::new(status, code, title, detail)
    }
}

impl From<LogoError> for ApiError {
    fn from(e: LogoError) -> Self {
        match e {
            LogoError::Org(e) => e.into(),
            LogoError::Ticket(TicketError::Exhausted { retry_after }) => {
                Self::upload_tries_exhausted(codes::ORGANIZATION_LOGO_UPLOAD_TRIES_EXHAUSTED, "logo", retry_after)
            }
            LogoError::Ticket(e) => e.into(),
            LogoError::Finalize(e) => e.into(),
            other => Self::unmapped(other),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Invalid(detail) => ApiError::unauthorized(codes::AUTH_INVALID_TOKEN, detail),
            AuthError::KeysUnavailable(source) => ApiError::dependency_unavailable(
                "the identity provider's signing keys could not be fetched; retry shortly",
                source,
            ),
        }
    }
}

impl From<AvatarFlowError> for ApiError {
    fn from(e: AvatarFlowError) -> Self {
        match e {
            AvatarFlowError::DiscordNotLinked => ApiError::forbidden(codes::PHOTO_DISCORD_NOT_LINKED, e.to_string()),
            AvatarFlowError::User(e) => e.into(),
            AvatarFlowError::Avatar(e) => e.into(),
            AvatarFlowError::Open(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody as _;

    #[test]
    fn a_5xx_body_carries_no_internals() {
        let err = ApiError::internal(anyhow::anyhow!("password authentication failed for user usher"));
        let body = err.to_response("req-1").into_body().try_into_bytes().unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("password"));
        assert!(text.contains("\"requestId\":\"req-1\""));
        assert!(format!("{err:?}").contains("password authentication failed"));
    }

    #[test]
    fn unavailable_carries_retry_after() {
        let err = ApiError::unavailable(anyhow::anyhow!("down"));
        let res = err.to_response("r");
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "5");
        assert_eq!(res.headers().get(header::CONTENT_TYPE).unwrap(), PROBLEM_JSON);
    }
}
