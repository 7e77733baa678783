//! `ValidJson<T>`: the JSON body extractor every endpoint uses.
//!
//! It enforces the API's body rules in one place: `application/json` (or a
//! `+json` type) else 415; at most 64 KiB else 413; syntax errors 400; wrong
//! shapes, unknown fields, values a field's domain type refuses (its
//! `Deserialize` parses, so its error is the field's) and `validator`
//! failures 422 with per-field `errors` keyed by JSON pointer.

use crate::codes;
use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt as _;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use shared_kernel::{CursorKey, PageRequest, PagingError};
use std::collections::BTreeMap;
use std::time::Duration;
use validator::Validate;

/// The largest accepted request body.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body that parsed and passed validation.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        codes::REQUEST_BODY_TOO_LARGE,
        "Request body too large",
        format!("the body must be at most {BODY_LIMIT} bytes"),
    )
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move {
            let body = body.await?.unwrap_or_default();
            let value: T = parse(&body)?;
            value.validate().map_err(validation_problem)?;
            Ok(ValidJson(value))
        })
    }
}

/// A JSON body like [`ValidJson`], or `T::default()` when the request has
/// no body at all or the body is `null` (for endpoints whose every field is
/// optional).
#[derive(Debug)]
pub struct ValidJsonOrEmpty<T>(pub T);

impl<T: DeserializeOwned + Validate + Default + 'static> FromRequest for ValidJsonOrEmpty<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let empty = req.headers().get(header::CONTENT_TYPE).is_none()
            && req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_none_or(|v| v.trim() == "0");
        let body = (!empty).then(|| read_body(req, payload));
        Box::pin(async move {
            let Some(body) = body else { return Ok(ValidJsonOrEmpty(T::default())) };
            let body = body.await?.unwrap_or_default();
            // JSON `null` is the document's way of saying "no body".
            if body.trim_ascii() == b"null" {
                return Ok(ValidJsonOrEmpty(T::default()));
            }
            let value: T = parse(&body)?;
            value.validate().map_err(validation_problem)?;
            Ok(ValidJsonOrEmpty(value))
        })
    }
}

/// How many times `server.body_timeout_seconds` an image upload may take:
/// uploads are up to a few MiB, JSON bodies a few KiB.
pub const UPLOAD_TIMEOUT_FACTOR: u32 = 4;

/// The default of `server.body_timeout_seconds`, for requests outside the app.
const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(15);

/// 408 `request.body_timeout`: the body did not arrive within `deadline`.
pub fn body_timed_out(deadline: Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        codes::REQUEST_BODY_TIMEOUT,
        "Request body too slow",
        format!("the request body did not arrive within {} seconds", deadline.as_secs()),
    )
}

/// Reads a JSON body under the API's rules: `application/json` (or a
/// `+json` type) else 415, at most [`BODY_LIMIT`] bytes else 413, all of it
/// within `server.body_timeout_seconds` else 408.
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<Option<Vec<u8>>, actix_web::Error>> {
    let deadline = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map_or(DEFAULT_BODY_TIMEOUT, |state| state.body_timeout);
    let json = is_json(req);
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    Box::pin(async move {
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::REQUEST_UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                "send the body as application/json",
            )
            .into());
        }
        if declared.is_some_and(|len| len > BODY_LIMIT) {
            return Err(too_large().into());
        }
        let receive = async {
            let mut body = Vec::with_capacity(declared.unwrap_or(256).min(BODY_LIMIT));
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::malformed(format!("could not read the body: {e}")))?;
                if body.len() + chunk.len() > BODY_LIMIT {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
        let body = tokio::time::timeout(deadline, receive).await.map_err(|_| body_timed_out(deadline))??;
        Ok(Some(body))
    })
}

/// Parses a JSON object, classifying failures as 400 (not JSON) or 422
/// (valid JSON of the wrong shape: not an object, wrong types, unknown or
/// duplicate fields).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let Some(first) = first else {
        return Err(ApiError::malformed("the request body is empty; send a JSON object"));
    };
    let is_valid_json = || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
    if *first != b'{' {
        // serde would happily read a struct from an array; the API takes objects only.
        return Err(if is_valid_json() {
            ApiError::invalid_field("", "the body must be a JSON object")
        } else {
            ApiError::malformed("the body is not valid JSON")
        });
    }
    if let Some(pointer) = nul_pointer(body) {
        return Err(ApiError::invalid_field(&pointer, "must not contain NUL characters"));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let pointer = pointer_of(e.path());
        let inner = e.into_inner();
        // serde_json reports some type errors (a number where an enum belongs)
        // as syntax errors; a document that is valid JSON has a shape problem.
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::invalid_field(&pointer, without_position(&inner)),
            _ if is_valid_json() => ApiError::invalid_field(&pointer, "has the wrong type"),
            _ => ApiError::malformed(format!("the body is not valid JSON: {inner}")),
        }
    })?;
    de.end().map_err(|e| ApiError::malformed(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// The JSON pointer of the first string (or key) holding a NUL character.
/// No field of this API may hold one, and PostgreSQL cannot store one, so it
/// is refused for every field at once, before any type sees it. JSON can
/// only carry a NUL as the escape `\u0000`, so bodies without it are not
/// parsed twice.
fn nul_pointer(body: &[u8]) -> Option<String> {
    let escaped = body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"));
    if !escaped {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    fn find(v: &serde_json::Value, at: &str) -> Option<String> {
        let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
        match v {
            serde_json::Value::String(s) if s.contains('\0') => Some(at.to_owned()),
            serde_json::Value::Array(items) => {
                items.iter().enumerate().find_map(|(i, x)| find(x, &format!("{at}/{i}")))
            }
            serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
                let here = format!("{at}/{}", escape(&k.replace('\0', "")));
                if k.contains('\0') { Some(here) } else { find(x, &here) }
            }),
            _ => None,
        }
    }
    find(&value, "")
}

fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

/// A serde path as an RFC 6901 JSON pointer (`""` is the whole document).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Enum { variant } => {
                pointer.push('/');
                pointer.push_str(variant);
            }
            Segment::Unknown => {}
        }
    }
    pointer
}

/// snake_case Rust field name → the camelCase JSON name.
fn camel_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `validator` errors → a 422 keyed by JSON pointer.
pub fn validation_problem(errors: validator::ValidationErrors) -> ApiError {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (field, errs) in errors.field_errors() {
        let messages =
            errs.iter().map(|e| e.message.as_ref().map_or_else(|| e.code.to_string(), ToString::to_string)).collect();
        map.insert(format!("/{}", camel_case(&field)), messages);
    }
    ApiError::validation(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[expect(dead_code, reason = "fields are only deserialised")]
    struct Body {
        display_name: String,
        tags: Option<Vec<u8>>,
    }

    #[test]
    fn syntax_errors_are_400_and_shape_errors_are_422_with_a_pointer() {
        assert_eq!(parse::<Body>(b"{").unwrap_err().status(), StatusCode::BAD_REQUEST);
        assert_eq!(parse::<Body>(b"").unwrap_err().status(), StatusCode::BAD_REQUEST);
        assert_eq!(parse::<Body>(br#"{"displayName":"a"} x"#).unwrap_err().status(), StatusCode::BAD_REQUEST);

        let err = parse::<Body>(br#"{"displayName":"a","tags":[1,"x"]}"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(err.body("r").errors.unwrap().contains_key("/tags/1"));

        let err = parse::<Body>(br#"{"displayName":"a","admin":true}"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let errors = err.body("r").errors.unwrap();
        assert!(errors.values().flatten().any(|m| m.contains("unknown field `admin`")), "{errors:?}");

        let err = parse::<Body>(br#"["a"]"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY, "arrays are not objects");
        assert_eq!(parse::<Body>(b"[").unwrap_err().status(), StatusCode::BAD_REQUEST);

        let err = parse::<Body>(br#"{"displayName":"a","displayName":"b"}"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY, "duplicate fields are ambiguous");
    }

    #[test]
    fn a_nul_anywhere_is_a_422_at_its_pointer() {
        let err = parse::<Body>(br#"{"displayName":"a\u0000b"}"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(err.body("r").errors.unwrap().contains_key("/displayName"));
        let err = parse::<Body>(br#"{"displayName":"a","tags":[1],"x\u0000":1}"#).unwrap_err();
        assert!(err.body("r").errors.unwrap().contains_key("/x"));
        assert!(parse::<Body>(br#"{"displayName":"a\\u0000"}"#).is_ok(), "an escaped backslash is not a NUL");
    }

    #[test]
    fn a_domain_type_refusing_its_value_is_a_422_at_its_pointer_with_the_parsers_message() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        #[expect(dead_code, reason = "fields are only deserialised")]
        struct Typed {
            display_name: users::DisplayName,
            #[serde(deserialize_with = "shared_kernel::ids::decimal::deserialize")]
            user_id: shared_kernel::UserId,
        }
        let cases = [
            (br#"{"displayName":"x","userId":"1"}"#.as_slice(), "/displayName", {
                users::DisplayName::parse("x").unwrap_err().to_string()
            }),
            (br#"{"displayName":"Ada","userId":"01"}"#.as_slice(), "/userId", {
                "01".parse::<shared_kernel::UserId>().unwrap_err().to_string()
            }),
        ];
        for (body, pointer, message) in cases {
            let err = parse::<Typed>(body).unwrap_err();
            assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let problem = err.body("r");
            assert_eq!(problem.code, codes::REQUEST_VALIDATION);
            assert_eq!(problem.errors.unwrap(), BTreeMap::from([(pointer.to_owned(), vec![message])]));
        }
        assert!(parse::<Typed>(br#"{"displayName":" Ada ","userId":"7"}"#).is_ok());
    }

    #[test]
    fn field_names_become_camel_case_pointers() {
        assert_eq!(camel_case("display_name"), "displayName");
        assert_eq!(camel_case("manual_status"), "manualStatus");
        assert_eq!(camel_case("id"), "id");
    }
}

/// `limit` and `cursor` of a list endpoint's query string.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page, 1..100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The validated page request of a list keyed by `K` (a UUID, a user
    /// id): 422 on a bad limit, or on a cursor this service did not issue
    /// for a list keyed by `K` (a well-formed cursor with a forged id, or
    /// another list's cursor, is 422, never a database error).
    pub fn page_of<K: CursorKey>(&self) -> Result<PageRequest<K>, ApiError> {
        PageRequest::parse(self.limit, self.cursor.as_deref()).map_err(|e| match e {
            PagingError::Limit => ApiError::invalid_field("/limit", e.to_string()),
            PagingError::Cursor(_) => ApiError::invalid_field("/cursor", e.to_string()),
        })
    }
}

/// Turns a query-string parse failure into a 400 problem.
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(StatusCode::BAD_REQUEST, codes::REQUEST_MALFORMED_QUERY, "Malformed query", err.to_string()).into()
}

/// Turns a path-parameter parse failure into a 404 problem (no such resource).
pub fn path_error(err: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    ApiError::not_found(codes::HTTP_NOT_FOUND, format!("no resource at {}: {err}", req.path())).into()
}
