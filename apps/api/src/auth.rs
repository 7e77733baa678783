//! Bearer-token authentication.
//!
//! Tokens are verified with HS256 (a configured secret, or one generated into
//! `data_dir` on first run) or with keys from a JWKS file, URL or the
//! issuer's OpenID discovery document (RS256/384/512, PS256/384/512,
//! ES256/384, EdDSA), so WorkOS, Auth0, Keycloak and Ory tokens work. Each
//! key accepts only its family's algorithms (or the one its JWK declares),
//! which rules out `alg: none` and HS/RS confusion. The keys are served from
//! a cache refreshed in the background, and no request waits longer than a
//! short fetch budget for the provider.
//! `exp`, `nbf`, `iss` and `aud` are checked (60 s leeway); the platform
//! role always comes from the database, never from a claim.

use crate::discovery::Discovery;
use crate::settings::{AuthSettings, Secret, Settings};
use anyhow::Context as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use shared_kernel::{DiscordId, EmailAddress};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{RwLock, watch};
use users::Identity;

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 60;
/// Tokens longer than this are refused unread.
const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The file in `data_dir` holding the generated HS256 secret.
pub const HS256_SECRET_FILE: &str = "hs256.secret";

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token is missing, malformed, badly signed, expired or otherwise invalid (401).
    #[error("{0}")]
    Invalid(String),
    /// The JWKS could not be fetched, so no token can be checked right now (503).
    #[error("the identity provider's keys are unavailable")]
    KeysUnavailable(#[source] anyhow::Error),
}

/// The claims Usher reads. Optional claims of an unexpected type are ignored
/// rather than failing the sign-in.
#[derive(Debug, Deserialize)]
struct RawClaims {
    sub: String,
    #[serde(default)]
    email: Option<serde_json::Value>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    #[serde(default)]
    given_name: Option<serde_json::Value>,
    #[serde(default)]
    family_name: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<serde_json::Value>,
    /// Every other claim, for the configurable Discord id claim.
    #[serde(flatten)]
    other: HashMap<String, serde_json::Value>,
}

impl RawClaims {
    /// The Discord id in `claim`, as a string or a number; anything that is
    /// not a snowflake is ignored rather than failing the sign-in.
    fn discord_id(&self, claim: Option<&str>) -> Option<DiscordId> {
        let value = self.other.get(claim?)?;
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.as_u64()?.to_string(),
            _ => return None,
        };
        DiscordId::parse(&text).ok()
    }

    fn into_identity(self, discord_claim: Option<&str>) -> Result<Identity, AuthError> {
        let discord_id = self.discord_id(discord_claim);
        let text = |v: &Option<serde_json::Value>| v.as_ref().and_then(|v| v.as_str().map(str::to_owned));
        let email = text(&self.email).and_then(|e| EmailAddress::parse(&e).ok());
        // Some providers send the flag as the string "true".
        let verified = match &self.email_verified {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        Identity::new(
            &self.sub,
            email,
            verified,
            text(&self.given_name).as_deref(),
            text(&self.family_name).as_deref(),
            text(&self.name).as_deref(),
        )
        .map(|identity| identity.with_discord_id(discord_id))
        .map_err(|e| AuthError::Invalid(e.to_string()))
    }
}

/// Verifies bearer tokens.
pub struct Authenticator {
    keys: KeySource,
    issuer: Option<String>,
    audience: Option<String>,
    discord_claim: Option<String>,
}

enum KeySource {
    Hmac(DecodingKey),
    Jwks(Arc<Jwks>),
}

impl Authenticator {
    /// Builds the authenticator from settings; generates the HS256 secret
    /// into `data_dir` when no key source is configured.
    pub async fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let auth = &settings.auth;
        let keys = match (&auth.jwks_url, &auth.jwks_file, &auth.issuer) {
            (Some(url), _, _) => KeySource::Jwks(Jwks::new(JwksOrigin::Url(url.clone()), auth)?),
            (None, Some(file), _) => KeySource::Jwks(Jwks::new(JwksOrigin::File(file.clone()), auth)?),
            (None, None, Some(issuer)) if auth.oidc_discovery => {
                KeySource::Jwks(Jwks::new(JwksOrigin::Discovery(issuer.clone()), auth)?)
            }
            (None, None, _) => {
                let secret = hs256_secret(settings)?;
                KeySource::Hmac(DecodingKey::from_secret(secret.expose().as_bytes()))
            }
        };
        if let KeySource::Jwks(jwks) = &keys {
            // Warm the cache; a provider that is down now is retried on the first request.
            if let Err(e) = tokio::time::timeout(FETCH_BUDGET, jwks.refresh())
                .await
                .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer within {FETCH_BUDGET:?}")))
            {
                tracing::warn!(error = ?e, "could not load the JWKS at start-up; will retry on the first request");
            }
        }
        Ok(Self {
            keys,
            issuer: auth.issuer.clone(),
            audience: auth.audience.clone(),
            discord_claim: auth.discord_id_claim.clone(),
        })
    }

    /// Verifies a token and returns the identity it describes.
    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Invalid("the token is too long".into()));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(describe(e.kind())))?;
        let (key, alg) = match &self.keys {
            KeySource::Hmac(key) => {
                if header.alg != Algorithm::HS256 {
                    return Err(AuthError::Invalid(format!("algorithm {:?} is not accepted; use HS256", header.alg)));
                }
                (key.clone(), Algorithm::HS256)
            }
            KeySource::Jwks(jwks) => jwks.key_for(header.alg, header.kid.as_deref()).await?,
        };
        let data = jsonwebtoken::decode::<RawClaims>(token, &key, &self.validation(alg))
            .map_err(|e| AuthError::Invalid(describe(e.kind())))?;
        data.claims.into_identity(self.discord_claim.as_deref())
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.algorithms = vec![alg];
        v.leeway = LEEWAY_SECONDS;
        v.validate_exp = true;
        v.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        match &self.issuer {
            Some(iss) => {
                v.set_issuer(&[iss]);
                required.push("iss");
            }
            None => v.iss = None,
        }
        match &self.audience {
            Some(aud) => {
                v.set_audience(&[aud]);
                required.push("aud");
            }
            None => v.validate_aud = false,
        }
        v.set_required_spec_claims(&required);
        v
    }

    /// Whether tokens are checked with the local HS256 secret (so `usher token` can mint them).
    pub fn is_local(&self) -> bool {
        matches!(self.keys, KeySource::Hmac(_))
    }
}

fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidIssuer => "the token's issuer is not accepted".into(),
        ErrorKind::InvalidAudience => "the token's audience is not accepted".into(),
        ErrorKind::InvalidSignature => "the token's signature is invalid".into(),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::UnsupportedAlgorithm => {
            "the token's algorithm is not accepted".into()
        }
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no `{claim}` claim"),
        ErrorKind::InvalidClaimFormat(claim) => format!("the token's `{claim}` claim is malformed"),
        _ => "the token is malformed".into(),
    }
}

/// Where the keys come from.
enum JwksOrigin {
    Url(String),
    File(PathBuf),
    /// `{issuer}/.well-known/openid-configuration`'s `jwks_uri`.
    Discovery(String),
}

/// A key of the set and the algorithms it may verify: its family's, or the
/// one its JWK declares.
#[derive(Clone)]
struct VerifyingKey {
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

struct JwksState {
    keys: HashMap<String, VerifyingKey>,
    /// Keys without a `kid`, usable only when the token has none either.
    anonymous: Vec<VerifyingKey>,
    fetched_at: Option<Instant>,
    /// Kids found unknown, and when: not looked for again before `min_refresh`.
    unknown: HashMap<String, Instant>,
    /// The discovered `jwks_uri`, once read.
    jwks_uri: Option<String>,
}

/// How long a request may wait for keys it lacks (the first load, a
/// rotated key): never longer, whatever the provider does.
const FETCH_BUDGET: Duration = Duration::from_secs(2);
/// How many unknown kids are remembered.
const UNKNOWN_CAPACITY: usize = 1024;

/// The identity provider's keys, refreshed in the background: requests are
/// served from the cached keys while one refresh runs (stale-while-
/// revalidate), and wait at most [`FETCH_BUDGET`] for keys they lack.
struct Jwks {
    origin: JwksOrigin,
    http: reqwest::Client,
    state: RwLock<JwksState>,
    /// Whether a refresh is running (one at a time).
    refreshing: AtomicBool,
    /// Bumped after every refresh attempt, for requests waiting on one.
    refreshed: watch::Sender<u64>,
    min_refresh: Duration,
    max_age: Duration,
}

impl Jwks {
    fn new(origin: JwksOrigin, auth: &AuthSettings) -> anyhow::Result<Arc<Self>> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .context("building the JWKS HTTP client")?;
        Ok(Arc::new(Self {
            origin,
            http,
            state: RwLock::new(JwksState {
                keys: HashMap::new(),
                anonymous: Vec::new(),
                fetched_at: None,
                unknown: HashMap::new(),
                jwks_uri: None,
            }),
            refreshing: AtomicBool::new(false),
            refreshed: watch::channel(0).0,
            min_refresh: Duration::from_secs(auth.jwks_min_refresh_seconds),
            max_age: Duration::from_secs(auth.jwks_cache_seconds),
        }))
    }

    async fn key_for(
        self: &Arc<Self>,
        alg: Algorithm,
        kid: Option<&str>,
    ) -> Result<(DecodingKey, Algorithm), AuthError> {
        if !accepted(alg) {
            return Err(AuthError::Invalid(format!(
                "algorithm {alg:?} is not accepted; use RS256/384/512, PS256/384/512, ES256/384 or EdDSA"
            )));
        }
        let fetched_at = self.state.read().await.fetched_at;
        match fetched_at {
            None => self.refresh_within_budget().await,
            Some(at) if at.elapsed() >= self.max_age => self.refresh_in_background(),
            Some(_) => {}
        }
        if let Some(found) = self.lookup(alg, kid).await? {
            return Ok(found);
        }
        if self.state.read().await.fetched_at.is_none() {
            return Err(AuthError::KeysUnavailable(anyhow::anyhow!("the JWKS could not be loaded")));
        }
        let unknown = || AuthError::Invalid("the token's signing key is unknown".into());
        let Some(kid) = kid else { return Err(unknown()) };
        // An unknown kid may be a freshly rotated key: re-read the set, at
        // most once per `min_refresh` per kid and for the whole set, so random
        // kids cannot hammer the provider.
        {
            let mut state = self.state.write().await;
            if state.unknown.get(kid).is_some_and(|at| at.elapsed() < self.min_refresh) {
                return Err(unknown());
            }
            if state.unknown.len() >= UNKNOWN_CAPACITY {
                state.unknown.clear();
            }
            state.unknown.insert(kid.to_owned(), Instant::now());
        }
        if self.state.read().await.fetched_at.is_some_and(|at| at.elapsed() >= self.min_refresh) {
            self.refresh_within_budget().await;
        }
        match self.lookup(alg, Some(kid)).await? {
            Some(found) => {
                self.state.write().await.unknown.remove(kid);
                Ok(found)
            }
            None => Err(unknown()),
        }
    }

    async fn lookup(&self, alg: Algorithm, kid: Option<&str>) -> Result<Option<(DecodingKey, Algorithm)>, AuthError> {
        let state = self.state.read().await;
        let found = match kid {
            Some(kid) => state.keys.get(kid).cloned(),
            None => state.anonymous.iter().find(|k| k.algorithms.contains(&alg)).cloned(),
        };
        match found {
            Some(k) if !k.algorithms.contains(&alg) => {
                Err(AuthError::Invalid(format!("the key is for {:?}, the token says {alg:?}", k.algorithms)))
            }
            Some(k) => Ok(Some((k.key, alg))),
            None => Ok(None),
        }
    }

    /// Starts a refresh unless one is running; returns at once.
    fn refresh_in_background(self: &Arc<Self>) {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(e) = this.refresh().await {
                tracing::warn!(error = ?e, "could not refresh the JWKS; keeping the keys already loaded");
            }
            this.refreshing.store(false, Ordering::Release);
            this.refreshed.send_modify(|n| *n += 1);
        });
    }

    /// Starts (or joins) a refresh and waits for it, at most [`FETCH_BUDGET`].
    async fn refresh_within_budget(self: &Arc<Self>) {
        let mut done = self.refreshed.subscribe();
        done.mark_unchanged();
        self.refresh_in_background();
        let _ = tokio::time::timeout(FETCH_BUDGET, done.changed()).await;
    }

    async fn fetch_json(&self, url: &str, what: &str) -> anyhow::Result<serde_json::Value> {
        self.http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("fetching the {what} from {url}"))?
            .json()
            .await
            .with_context(|| format!("reading the {what} from {url}"))
    }

    /// The `jwks_uri` of the issuer's discovery document, whose `issuer`
    /// must be the configured one.
    async fn discover(&self, issuer: &str) -> anyhow::Result<String> {
        if let Some(uri) = self.state.read().await.jwks_uri.clone() {
            return Ok(uri);
        }
        let uri = Discovery::read(&self.http, issuer).await?.endpoint("jwks_uri")?;
        self.state.write().await.jwks_uri = Some(uri.clone());
        Ok(uri)
    }

    async fn refresh(&self) -> anyhow::Result<()> {
        let body: serde_json::Value = match &self.origin {
            JwksOrigin::Url(url) => self.fetch_json(url, "JWKS").await?,
            JwksOrigin::Discovery(issuer) => {
                let uri = self.discover(issuer).await?;
                self.fetch_json(&uri, "JWKS").await?
            }
            JwksOrigin::File(path) => {
                let text = tokio::fs::read_to_string(path)
                    .await
                    .with_context(|| format!("reading the JWKS file {}", path.display()))?;
                serde_json::from_str(&text).with_context(|| format!("parsing the JWKS file {}", path.display()))?
            }
        };
        let (keys, anonymous) = parse_jwks(&body);
        let mut state = self.state.write().await;
        state.keys = keys;
        state.anonymous = anonymous;
        state.fetched_at = Some(Instant::now());
        Ok(())
    }
}

/// The algorithms an RSA key may verify.
const RSA_FAMILY: [Algorithm; 6] =
    [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384, Algorithm::PS512];

/// Whether identity providers sign with `alg`; anything else (HS*, `none`)
/// is refused under a JWKS.
fn accepted(alg: Algorithm) -> bool {
    RSA_FAMILY.contains(&alg) || matches!(alg, Algorithm::ES256 | Algorithm::ES384 | Algorithm::EdDSA)
}

type ParsedKeys = (HashMap<String, VerifyingKey>, Vec<VerifyingKey>);

/// Keeps the signing keys of a JWKS (RSA, P-256, P-384, Ed25519), each with
/// the algorithms of its family, or only the one its JWK declares; skips the
/// rest (encryption keys, other curves, malformed entries) instead of
/// failing the whole set.
fn parse_jwks(body: &serde_json::Value) -> ParsedKeys {
    let mut keys = HashMap::new();
    let mut anonymous = Vec::new();
    let entries = body.get("keys").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
    for entry in entries {
        if entry.get("use").and_then(serde_json::Value::as_str).is_some_and(|u| u != "sig") {
            continue;
        }
        let Ok(jwk) = serde_json::from_value::<Jwk>(entry) else {
            continue;
        };
        let family: Vec<Algorithm> = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => RSA_FAMILY.to_vec(),
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => vec![Algorithm::ES256],
                EllipticCurve::P384 => vec![Algorithm::ES384],
                _ => continue,
            },
            AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => vec![Algorithm::EdDSA],
            _ => continue,
        };
        let algorithms = match jwk.common.key_algorithm {
            None => family,
            Some(declared) => match family.into_iter().find(|a| format!("{a:?}") == format!("{declared:?}")) {
                Some(alg) => vec![alg],
                None => continue,
            },
        };
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        let verifying = VerifyingKey { key, algorithms };
        match jwk.common.key_id.clone() {
            Some(kid) => {
                keys.insert(kid, verifying);
            }
            None => anonymous.push(verifying),
        }
    }
    (keys, anonymous)
}

/// The HS256 secret: configured, or read from (or generated into) `data_dir`.
pub fn hs256_secret(settings: &Settings) -> anyhow::Result<Secret> {
    if let Some(secret) = &settings.auth.hs256_secret {
        return Ok(secret.clone());
    }
    let path = settings.data_dir.join(HS256_SECRET_FILE);
    crate::secrets::read_or_generate(&path, "HS256 token secret")
}

#[derive(Serialize)]
struct LocalClaims<'a> {
    sub: String,
    email: &'a str,
    email_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    iat: i64,
    nbf: i64,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

/// Mints a short-lived HS256 token for local use (`usher token`). The subject
/// is `local:<email>`, so the same e-mail always signs in as the same user.
pub fn mint_local_token(
    settings: &Settings,
    email: &EmailAddress,
    name: Option<&str>,
    ttl: Duration,
) -> anyhow::Result<String> {
    anyhow::ensure!(
        settings.auth.jwks_url.is_none() && settings.auth.jwks_file.is_none(),
        "this service verifies tokens from a JWKS (auth.jwks_url / auth.jwks_file); get a token from your identity provider instead"
    );
    let secret = hs256_secret(settings)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX).min(7 * 24 * 3600);
    let claims = LocalClaims {
        sub: format!("local:{email}"),
        email: email.as_str(),
        email_verified: true,
        name,
        iat: now,
        nbf: now,
        exp: now + ttl,
        iss: settings.auth.issuer.as_deref(),
        aud: settings.auth.audience.as_deref(),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.expose().as_bytes()))
        .context("signing the token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join(HS256_SECRET_FILE);
        let first = crate::secrets::read_or_generate(&path, "test secret").unwrap();
        let second = crate::secrets::read_or_generate(&path, "test secret").unwrap();
        assert_eq!(first.expose(), second.expose());
        assert!(first.expose().len() >= 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn the_configured_claim_carries_a_discord_id_as_text_or_number() {
        let claims = |v: serde_json::Value| -> RawClaims {
            serde_json::from_value(serde_json::json!({"sub": "idp|1", "discord": v})).unwrap()
        };
        let id = DiscordId::parse("80351110224678912").unwrap();
        assert_eq!(claims(serde_json::json!("80351110224678912")).discord_id(Some("discord")), Some(id.clone()));
        assert_eq!(claims(serde_json::json!(80_351_110_224_678_912u64)).discord_id(Some("discord")), Some(id));
        assert_eq!(claims(serde_json::json!("nope")).discord_id(Some("discord")), None);
        assert_eq!(claims(serde_json::json!("80351110224678912")).discord_id(None), None);
        assert_eq!(claims(serde_json::json!("80351110224678912")).discord_id(Some("other")), None);
    }

    #[test]
    fn jwks_entries_that_are_not_signing_keys_are_skipped() {
        let body = serde_json::json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "RSA", "use": "enc", "kid": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "nonsense"},
        ]});
        let (keys, anonymous) = parse_jwks(&body);
        assert!(keys.is_empty() && anonymous.is_empty());
    }
}
