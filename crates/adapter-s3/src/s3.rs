//! `ObjectStore` over any S3-compatible store (Cloudflare R2, AWS S3, MinIO…).
//!
//! `rusty-s3` signs every request as a presigned URL (AWS Signature Version 4,
//! path-style URLs) and does no I/O; `reqwest` sends them. rusty-s3 has no
//! CopyObject action, so a copy is a signed `PUT` of the destination carrying
//! the `x-amz-copy-source` header, which S3 routes to CopyObject.
//!
//! - The presigned upload signs `content-type` in, so the store refuses a `PUT`
//!   with any other type. It carries no `x-amz-checksum-*` parameter (R2
//!   rejects those).
//! - A refused connection and the transient answers (429, 500, 502, 503,
//!   504) are tried again, three attempts in all: every request here is
//!   idempotent. Transport failures that remain (refused, timed out, reset)
//!   become [`StoreError::Unavailable`]; error statuses from the store become
//!   [`StoreError::Upstream`] with the status and the start of the body.
//! - Errors never carry a signed URL: its query holds a live signature.

use anyhow::{Context as _, anyhow};
use async_trait::async_trait;
use image_upload::{ImageType, ObjectInfo, ObjectKey, ObjectStore, PresignedPut, StoreError};
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, RANGE};
use reqwest::{Client, Response, StatusCode};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use shared_kernel::{Clock, SystemClock};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use time::Duration;
use url::Url;

/// Timeout of every request the adapter sends (connect, send and read the body).
const REQUEST_TIMEOUT: StdDuration = StdDuration::from_secs(10);

/// Validity of the URLs the adapter signs for its own requests: they are sent
/// at once, so this only has to cover the request timeout and some clock skew.
const INTERNAL_URL_TTL: StdDuration = StdDuration::from_secs(60);

/// S3 accepts presigned URLs valid between 1 second and 7 days.
const MAX_PRESIGN_SECONDS: u64 = 7 * 24 * 60 * 60;

/// How much of an error body is kept in an [`StoreError::Upstream`].
const ERROR_BODY_EXCERPT: usize = 512;

/// Connection settings for an S3-compatible store (Cloudflare R2, AWS, MinIO…).
///
/// `Debug` redacts the secret access key.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// The S3 API endpoint, without the bucket: `https://<account>.r2.cloudflarestorage.com`.
    pub endpoint: String,
    /// The bucket; it is addressed path-style (`{endpoint}/{bucket}/{key}`).
    pub bucket: String,
    /// The signing region: `auto` for R2, `us-east-1` and so on for AWS.
    pub region: String,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key (never printed).
    pub secret_access_key: String,
    /// Base of the public URLs of finalized objects (an R2 custom domain):
    /// the URL of a key is `{public_base_url}/{key}`.
    pub public_base_url: String,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .field("public_base_url", &self.public_base_url)
            .finish()
    }
}

/// [`ObjectStore`] over an S3-compatible API.
///
/// Cheap to share behind an `Arc`; the HTTP client pools its connections.
/// `Debug` redacts the secret access key.
pub struct S3ObjectStore {
    bucket: Bucket,
    credentials: Credentials,
    client: Client,
    public_base_url: String,
    /// When presigned URLs handed to clients start (requests the store sends
    /// itself are signed with the wall clock the server checks against).
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for S3ObjectStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3ObjectStore")
            .field("bucket_url", &self.bucket.base_url().as_str())
            .field("region", &self.bucket.region())
            .field("access_key_id", &self.credentials.key())
            .field("secret_access_key", &"[redacted]")
            .field("public_base_url", &self.public_base_url)
            .finish()
    }
}

impl S3ObjectStore {
    /// Checks the settings and builds the HTTP client; performs no I/O.
    ///
    /// # Errors
    /// An endpoint that is not an `http`/`https` URL with a host, an empty
    /// bucket, region or key, or an HTTP client that cannot be built.
    pub fn new(config: S3Config) -> anyhow::Result<Self> {
        let S3Config { endpoint, bucket, region, access_key_id, secret_access_key, public_base_url } = config;
        for (name, value) in [
            ("bucket", &bucket),
            ("region", &region),
            ("access_key_id", &access_key_id),
            ("secret_access_key", &secret_access_key),
        ] {
            anyhow::ensure!(!value.trim().is_empty(), "storage.{name} must not be empty");
        }
        let endpoint_url =
            Url::parse(&endpoint).with_context(|| format!("storage.endpoint {endpoint:?} is not a URL"))?;
        let bucket = Bucket::new(endpoint_url, UrlStyle::Path, bucket, region)
            .with_context(|| format!("storage.endpoint {endpoint:?} cannot address a bucket"))?;
        let client = Client::builder()
            .timeout(REQUEST_TIMEOUT)
            // S3 answers requests itself; a redirect would resend a signed request elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the object store's HTTP client")?;
        Ok(Self {
            bucket,
            credentials: Credentials::new(access_key_id, secret_access_key),
            client,
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
            clock: Arc::new(SystemClock),
        })
    }

    /// Presigns the URLs handed to clients as of `clock`'s now.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The instant presigned URLs start at.
    fn signed_at(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_second(self.clock.now().unix_timestamp()).unwrap_or_else(|_| jiff::Timestamp::now())
    }

    /// Sends the request `build` makes (from a freshly signed URL each time),
    /// turning transport failures into [`StoreError::Unavailable`].
    ///
    /// Every request of this adapter is idempotent (HEAD, ranged GET, a copy
    /// onto a fixed key, DELETE), so a refused connection or a transient
    /// answer (429, 500, 502, 503, 504 — S3's "SlowDown", R2's passing 5xx)
    /// is tried again after a short pause, [`ATTEMPTS`] times in all. A
    /// timeout is not: it has already cost [`REQUEST_TIMEOUT`].
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder + Send + Sync,
        what: &str,
    ) -> Result<Response, StoreError> {
        let mut attempt = 1;
        loop {
            let last = attempt >= ATTEMPTS;
            match build().send().await {
                Ok(response) if !last && is_transient(response.status()) => {}
                Ok(response) => return Ok(response),
                Err(e) if !last && e.is_connect() => {}
                Err(e) => {
                    // The URL carries a live signature: keep it out of errors and logs.
                    let kind = if e.is_timeout() {
                        "timed out"
                    } else if e.is_connect() {
                        "could not connect"
                    } else {
                        "failed"
                    };
                    return Err(StoreError::Unavailable(anyhow!(e.without_url()).context(format!("{what}: {kind}"))));
                }
            }
            tokio::time::sleep(RETRY_PAUSE * attempt).await;
            attempt += 1;
        }
    }
}

/// How many times a request is sent before a transient failure is final.
const ATTEMPTS: u32 = 3;

/// The pause before the second attempt; the third waits twice as long.
const RETRY_PAUSE: StdDuration = StdDuration::from_millis(150);

/// Answers worth another try: the store is busy or briefly failing.
fn is_transient(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    )
}

/// `expires_in` as whole seconds, within what S3 accepts (1 s to 7 days).
fn presign_ttl(expires_in: Duration) -> StdDuration {
    let seconds = u64::try_from(expires_in.whole_seconds()).unwrap_or(0);
    StdDuration::from_secs(seconds.clamp(1, MAX_PRESIGN_SECONDS))
}

/// An [`StoreError::Upstream`] naming the status and the start of the body.
async fn upstream(response: Response, what: &str) -> StoreError {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    StoreError::Upstream(anyhow!("{what}: the object store answered {status}: {}", excerpt(&body)))
}

/// The start of a body, as text, for error messages.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(ERROR_BODY_EXCERPT)]);
    let text = text.trim();
    if text.is_empty() { "(empty body)".to_owned() } else { text.to_owned() }
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    async fn presign_get(&self, key: &ObjectKey, expires_in: Duration) -> Result<String, StoreError> {
        let action = self.bucket.get_object(Some(&self.credentials), key.as_str());
        Ok(action.sign_with_time(presign_ttl(expires_in), &self.signed_at()).into())
    }

    async fn presign_put(
        &self,
        key: &ObjectKey,
        content_type: ImageType,
        expires_in: Duration,
    ) -> Result<PresignedPut, StoreError> {
        let mut action = self.bucket.put_object(Some(&self.credentials), key.as_str());
        // Signed, so the store refuses the PUT unless it carries exactly this type.
        action.headers_mut().insert("content-type", content_type.mime());
        let url = action.sign_with_time(presign_ttl(expires_in), &self.signed_at());
        Ok(PresignedPut { url: url.into(), headers: vec![("Content-Type".to_owned(), content_type.mime().to_owned())] })
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<ObjectInfo>, StoreError> {
        let what = format!("HEAD {key}");
        let sign = || self.bucket.head_object(Some(&self.credentials), key.as_str()).sign(INTERNAL_URL_TTL);
        let response = self.send(|| self.client.head(sign()), &what).await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => {
                let headers = response.headers();
                // Read the header itself: for a HEAD response the body size
                // hint that `Response::content_length` reports is 0.
                let size = headers
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .ok_or_else(|| StoreError::Upstream(anyhow!("{what}: no valid Content-Length in the answer")))?;
                let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
                Ok(Some(ObjectInfo { size, content_type }))
            }
            _ => Err(upstream(response, &what).await),
        }
    }

    async fn read_range(&self, key: &ObjectKey, range: Range<u64>) -> Result<Vec<u8>, StoreError> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let what = format!("GET {key} bytes {}..{}", range.start, range.end);
        let sign = || self.bucket.get_object(Some(&self.credentials), key.as_str()).sign(INTERNAL_URL_TTL);
        let bytes_range = format!("bytes={}-{}", range.start, range.end - 1);
        let mut response = self.send(|| self.client.get(sign()).header(RANGE, &bytes_range), &what).await?;
        // A 200 means the store ignored the range and sends the object from
        // its first byte: skip up to the start and stop reading at the end.
        let mut skip = match response.status() {
            StatusCode::PARTIAL_CONTENT => 0,
            StatusCode::OK => range.start,
            StatusCode::RANGE_NOT_SATISFIABLE => return Ok(Vec::new()),
            StatusCode::NOT_FOUND => return Err(StoreError::Missing(key.to_string())),
            _ => return Err(upstream(response, &what).await),
        };
        let wanted = usize::try_from(range.end - range.start).unwrap_or(usize::MAX);
        let mut bytes = Vec::with_capacity(wanted.min(1 << 20));
        while bytes.len() < wanted {
            let chunk = response.chunk().await.map_err(|e| {
                StoreError::Unavailable(anyhow!(e.without_url()).context(format!("{what}: reading the body failed")))
            })?;
            let Some(chunk) = chunk else { break };
            let mut chunk = &chunk[..];
            let skipped = usize::try_from(skip).unwrap_or(usize::MAX).min(chunk.len());
            chunk = &chunk[skipped..];
            skip -= skipped as u64;
            let take = chunk.len().min(wanted - bytes.len());
            bytes.extend_from_slice(&chunk[..take]);
        }
        // Dropping the response here closes the connection if the store sent
        // more than asked for, instead of downloading the rest.
        Ok(bytes)
    }

    async fn copy(&self, from: &ObjectKey, to: &ObjectKey, content_type: ImageType) -> Result<(), StoreError> {
        let what = format!("COPY {from} to {to}");
        // Object keys are `[a-z0-9._-]` segments, so the source needs no percent-encoding.
        let source = format!("/{}/{}", self.bucket.name(), from.as_str());
        let sign = || {
            let mut action = self.bucket.put_object(Some(&self.credentials), to.as_str());
            // Every `x-amz-*` header sent must be signed (AWS refuses unsigned ones).
            let headers = action.headers_mut();
            headers.insert("content-type", content_type.mime());
            headers.insert("x-amz-copy-source", source.clone());
            headers.insert("x-amz-metadata-directive", "REPLACE");
            action.sign(INTERNAL_URL_TTL)
        };
        let request = || {
            self.client
                .put(sign())
                .header(CONTENT_TYPE, content_type.mime())
                .header("x-amz-copy-source", &source)
                .header("x-amz-metadata-directive", "REPLACE")
                // reqwest leaves Content-Length out of an empty body; S3 wants it.
                .header(CONTENT_LENGTH, "0")
                .body(Vec::new())
        };
        let response = self.send(request, &what).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(StoreError::Missing(from.to_string()));
        }
        if !response.status().is_success() {
            return Err(upstream(response, &what).await);
        }
        // CopyObject may fail after sending 200: the error is then in the body.
        let body = response.bytes().await.map_err(|e| {
            StoreError::Unavailable(anyhow!(e.without_url()).context(format!("{what}: reading the answer failed")))
        })?;
        if body.windows(7).any(|w| w == b"<Error>") {
            return Err(StoreError::Upstream(anyhow!("{what}: the copy failed: {}", excerpt(&body))));
        }
        Ok(())
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        let what = format!("DELETE {key}");
        let sign = || self.bucket.delete_object(Some(&self.credentials), key.as_str()).sign(INTERNAL_URL_TTL);
        let response = self.send(|| self.client.delete(sign()), &what).await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(()),
            status if status.is_success() => Ok(()),
            _ => Err(upstream(response, &what).await),
        }
    }

    fn public_url(&self, key: &ObjectKey) -> String {
        format!("{}/{}", self.public_base_url, key.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> S3Config {
        S3Config {
            endpoint: "https://account.r2.cloudflarestorage.com".into(),
            bucket: "usher".into(),
            region: "auto".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "very-secret-key".into(),
            public_base_url: "https://cdn.example.com/".into(),
        }
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let config = config();
        assert!(!format!("{config:?}").contains("very-secret-key"));
        let store = S3ObjectStore::new(config).expect("valid config");
        let printed = format!("{store:?}");
        assert!(!printed.contains("very-secret-key"), "{printed}");
        assert!(printed.contains("AKIDEXAMPLE"), "{printed}");
    }

    #[test]
    fn public_urls_join_the_base_and_the_key_with_one_slash() {
        let store = S3ObjectStore::new(config()).expect("valid config");
        let key = ObjectKey::parse("avatars/42/a.png").expect("valid key");
        assert_eq!(store.public_url(&key), "https://cdn.example.com/avatars/42/a.png");
    }

    #[test]
    fn bad_settings_are_refused() {
        let mut bad = config();
        bad.endpoint = "ftp://example.com".into();
        assert!(S3ObjectStore::new(bad).is_err());
        let mut bad = config();
        bad.endpoint = "not a url".into();
        assert!(S3ObjectStore::new(bad).is_err());
        let mut bad = config();
        bad.secret_access_key = String::new();
        assert!(S3ObjectStore::new(bad).is_err());
    }

    #[tokio::test]
    async fn presigned_puts_are_path_style_and_sign_the_content_type_in() {
        let store = S3ObjectStore::new(config()).expect("valid config");
        let key = ObjectKey::parse("tmp/avatars/42/a.webp").expect("valid key");
        let put = store.presign_put(&key, ImageType::Webp, Duration::seconds(600)).await.expect("presigned");
        let url = Url::parse(&put.url).expect("a URL");
        assert_eq!(url.path(), "/usher/tmp/avatars/42/a.webp");
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(param("X-Amz-SignedHeaders"), Some("content-type;host"));
        assert_eq!(param("X-Amz-Expires"), Some("600"));
        assert!(param("X-Amz-Credential").is_some_and(|c| c.contains("/auto/s3/aws4_request")));
        assert!(!put.url.to_ascii_lowercase().contains("checksum"), "{}", put.url);
        assert_eq!(put.headers, vec![("Content-Type".to_owned(), "image/webp".to_owned())]);
    }

    /// A store on loopback whose answers the test scripts.
    async fn scripted() -> (wiremock::MockServer, S3ObjectStore) {
        let server = wiremock::MockServer::start().await;
        let store = S3ObjectStore::new(S3Config { endpoint: server.uri(), ..config() }).expect("valid config");
        (server, store)
    }

    #[tokio::test]
    async fn transient_answers_are_tried_again() {
        use wiremock::matchers::method;
        use wiremock::{Mock, ResponseTemplate};
        let (server, store) = scripted().await;
        Mock::given(method("DELETE")).respond_with(ResponseTemplate::new(503)).up_to_n_times(2).mount(&server).await;
        Mock::given(method("DELETE")).respond_with(ResponseTemplate::new(204)).mount(&server).await;
        let key = ObjectKey::parse("avatars/42/a.png").expect("valid key");
        store.delete(&key).await.expect("the third attempt succeeds");
        let sent = server.received_requests().await.expect("recorded");
        assert_eq!(sent.len(), 3);
        assert!(sent.iter().all(|r| r.url.query().is_some_and(|q| q.contains("X-Amz-Signature"))), "each is signed");
    }

    #[tokio::test]
    async fn a_lasting_failure_ends_after_three_attempts_and_a_refusal_at_once() {
        use wiremock::matchers::method;
        use wiremock::{Mock, ResponseTemplate};
        let (server, store) = scripted().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(500).set_body_string("InternalError"))
            .mount(&server)
            .await;
        Mock::given(method("HEAD")).respond_with(ResponseTemplate::new(403)).mount(&server).await;
        let key = ObjectKey::parse("avatars/42/a.png").expect("valid key");
        let err = store.read_range(&key, 0..16).await.expect_err("the store keeps failing");
        assert!(matches!(&err, StoreError::Upstream(e) if e.to_string().contains("500")), "{err:?}");
        assert_eq!(server.received_requests().await.expect("recorded").len(), 3);
        // A refusal is an answer, not a passing failure: no second try.
        let err = store.head(&key).await.expect_err("forbidden");
        assert!(matches!(&err, StoreError::Upstream(e) if e.to_string().contains("403")), "{err:?}");
        assert_eq!(server.received_requests().await.expect("recorded").len(), 4);
    }

    #[tokio::test]
    async fn an_unreachable_store_is_unavailable_without_the_signed_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let endpoint = format!("http://{}", listener.local_addr().expect("bound"));
        drop(listener); // nobody listens there now: connections are refused
        let store = S3ObjectStore::new(S3Config { endpoint, ..config() }).expect("valid config");
        let key = ObjectKey::parse("avatars/42/a.png").expect("valid key");
        let err = store.head(&key).await.expect_err("refused");
        let StoreError::Unavailable(e) = &err else { panic!("{err:?}") };
        let text = format!("{e:#}");
        assert!(text.contains("could not connect"), "{text}");
        assert!(!text.contains("X-Amz-Signature"), "{text}");
    }

    #[test]
    fn presign_lifetimes_stay_within_what_s3_accepts() {
        assert_eq!(presign_ttl(Duration::seconds(-5)), StdDuration::from_secs(1));
        assert_eq!(presign_ttl(Duration::milliseconds(500)), StdDuration::from_secs(1));
        assert_eq!(presign_ttl(Duration::seconds(600)), StdDuration::from_secs(600));
        assert_eq!(presign_ttl(Duration::days(30)), StdDuration::from_secs(MAX_PRESIGN_SECONDS));
    }
}
