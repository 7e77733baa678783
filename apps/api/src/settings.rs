//! Layered settings: built-in defaults → optional `usher.toml` → `USHER_*`
//! environment variables (`__` nests: `USHER_DATABASE__URL` is `database.url`).
//!
//! Secrets are [`Secret`]s: redacted in `Debug`, in logs and in `usher config`.

use crate::client::TrustedProxies;
use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use profile_verification::{Field, LevelSteps};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use shared_kernel::EmailAddress;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A secret string: never printed.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

/// Every setting of the service.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP listener.
    pub server: ServerSettings,
    /// Embedded database, local objects and generated secrets live here.
    pub data_dir: PathBuf,
    /// Database connection.
    pub database: DatabaseSettings,
    /// Token verification and provisioning.
    pub auth: AuthSettings,
    /// Object storage (used by image uploads).
    pub storage: StorageSettings,
    /// Discord API (used by photo verification).
    pub discord: DiscordSettings,
    /// Feature flags.
    pub features: FeatureSettings,
    /// Photo verification (with `features.photo_verification`).
    pub photo_verification: PhotoVerificationSettings,
    /// Outgoing e-mail (used by invitations).
    pub smtp: SmtpSettings,
    /// Avatar uploads.
    pub avatar: AvatarSettings,
    /// KYC profiles: four eyes, masking, required fields, levels, encryption keys.
    pub profiles: ProfilesSettings,
    /// Invitations, memberships and organization logos.
    pub invitations: InvitationSettings,
    /// Per-user and per-organization quotas, counted in the database (shared by every replica).
    pub quotas: QuotaSettings,
    /// The event log (docs/events.md).
    pub events: EventSettings,
    /// `pretty` (default) or `json` logs (`USHER_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// `/metrics`.
    pub metrics: MetricsSettings,
    /// `development` (default) or `production` (`USHER_ENV`): production
    /// refuses to serve with secrets generated into `data_dir`.
    pub env: Environment,
}

/// Where the service runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A developer's machine: missing secrets are generated into `data_dir`.
    #[default]
    Development,
    /// A deployment: every secret and key must be configured.
    Production,
}

/// `metrics.*`
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// When set, `/metrics` answers only requests with `Authorization:
    /// Bearer <this>`; when unset, anyone who reaches it may read it.
    pub bearer_token: Option<Secret>,
}

/// `server.*`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Base of links the service hands out; `http://<bound addr>` when unset.
    pub public_url: Option<String>,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Seconds in-flight requests get to finish after SIGTERM.
    pub shutdown_timeout_seconds: u64,
    /// Seconds between SIGTERM (or SIGINT) and closing the listener, during
    /// which `/readyz` answers 503 so a load balancer stops routing here while
    /// requests are still served; a second signal ends it early. Set it above
    /// the balancer's health-check interval times its fall count.
    pub drain_seconds: u64,
    /// Seconds a request body may take to arrive (408 after); image uploads
    /// to the embedded store get four times as long.
    pub body_timeout_seconds: u64,
    /// Web origins (`https://app.example.com`, exactly) whose pages may call
    /// the API from a browser; none by default.
    pub cors_allowed_origins: Parsed<ExactOrigins>,
    /// Proxies (CIDRs or addresses) whose `Forwarded` / `X-Forwarded-For`
    /// headers name the client; none by default (the TCP peer is the client).
    pub trusted_proxies: Parsed<TrustedProxies>,
}

/// `database.*`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` or `sqlite://…`; `sqlite://<data_dir>/usher.db` when unset.
    pub url: Option<Secret>,
    /// Pool size; 0 means four per core (at least 4, at most 32).
    pub max_connections: u32,
    /// Seconds to wait for a connection before answering 503.
    pub acquire_timeout_seconds: u64,
}

/// `auth.*`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// HS256 secret; generated into `data_dir` when neither it nor a JWKS is set.
    pub hs256_secret: Option<Secret>,
    /// JWKS URL of the identity provider (WorkOS, Auth0, Keycloak, Ory…); https, or http on loopback.
    pub jwks_url: Option<String>,
    /// Read the JWKS URL from `{auth.issuer}/.well-known/openid-configuration`.
    pub oidc_discovery: bool,
    /// With a JWKS, accept tokens of any issuer and audience (not recommended:
    /// any token the provider signs for another app would be accepted).
    pub insecure_any_issuer_and_audience: bool,
    /// JWKS file of the identity provider (read like `jwks_url`).
    pub jwks_file: Option<PathBuf>,
    /// Required `iss`, when set.
    pub issuer: Option<String>,
    /// Required `aud`, when set.
    pub audience: Option<String>,
    /// E-mails made superusers when their user is first provisioned (verified e-mail only).
    pub bootstrap_superusers: Parsed<Vec<EmailAddress>>,
    /// Lifetime of tokens minted by `usher token`, in seconds.
    pub local_token_ttl_seconds: u64,
    /// How long JWKS keys are cached before they are re-read, in seconds.
    pub jwks_cache_seconds: u64,
    /// Least time between re-reads of the JWKS triggered by an unknown `kid`.
    pub jwks_min_refresh_seconds: u64,
    /// A token claim carrying the user's Discord id, linked at sign-in; none by default.
    pub discord_id_claim: Option<String>,
    /// The dashboard's sign-in at the identity provider (OIDC authorization
    /// code flow with PKCE); without it the dashboard offers the development
    /// sign-in (`usher token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcSignIn>,
}

/// `auth.oidc.*`: where and as whom the dashboard signs people in.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSignIn {
    /// The provider's issuer; its endpoints are read from
    /// `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// The dashboard's client id: a public client (no secret) whose
    /// redirect URI is `{server.public_url}/dashboard/`.
    pub client_id: String,
    /// The scopes asked for; `openid` among them.
    #[serde(default = "OidcSignIn::default_scopes")]
    pub scopes: Vec<String>,
    /// The `audience` parameter, for providers that issue an access token
    /// for an API only when asked (Auth0).
    #[serde(default)]
    pub audience: Option<String>,
}

impl OidcSignIn {
    fn default_scopes() -> Vec<String> {
        ["openid", "email", "profile"].map(str::to_owned).to_vec()
    }
}

/// `storage.*`: the store `storage.kind` names, with its own settings,
/// and the settings every store shares.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StorageSettings {
    /// `kind = "local"` or `kind = "s3"`, and that store's settings.
    #[serde(flatten)]
    pub kind: StorageKind,
    /// Seconds between runs of the sweeper that deletes abandoned uploads.
    pub sweep_interval_seconds: u64,
    /// How many uploads the embedded store receives at once (503 `upload.busy` beyond).
    pub max_concurrent_uploads: usize,
}

/// Where objects are stored: `storage.kind` and the settings of that kind.
/// A setting of the other kind is refused as unknown, and a missing one
/// fails the load naming it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StorageKind {
    /// `data_dir/objects`, served by the app itself.
    Local(LocalStorage),
    /// Any S3 API (Cloudflare R2, MinIO, AWS).
    S3(S3Storage),
}

/// `storage.*` with `kind = "local"`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalStorage {
    /// The embedded store's upload URL signing key (at least 32 bytes);
    /// generated into `data_dir` when unset.
    // Left out of the defaults when unset, so that they carry no key that
    // `kind = "s3"` would refuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<Secret>,
}

/// `storage.*` with `kind = "s3"`: all required but `region`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Storage {
    /// S3 endpoint, e.g. `https://<account>.r2.cloudflarestorage.com`.
    pub endpoint: String,
    /// S3 bucket.
    pub bucket: String,
    /// S3 region (default `auto`, as R2 wants).
    #[serde(default = "S3Storage::default_region")]
    pub region: String,
    /// S3 access key id.
    pub access_key_id: String,
    /// S3 secret access key.
    pub secret_access_key: Secret,
    /// Public base URL of stored objects.
    pub public_base_url: String,
}

impl S3Storage {
    fn default_region() -> String {
        "auto".to_owned()
    }
}

/// `discord.*`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordSettings {
    /// Discord REST API base.
    pub api_base: String,
    /// Bot token; Discord is not configured without it.
    pub bot_token: Option<Secret>,
}

/// `features.*`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSettings {
    /// Seed 000's flag: new avatars wait for review against the Discord avatar.
    pub photo_verification: bool,
}

/// `photo_verification.*`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoVerificationSettings {
    /// Users without a linked Discord id may not upload a new photo (403
    /// `photo.discord_not_linked` at ticket time); when false their
    /// verification's Discord side is `notLinked`.
    pub require_discord: bool,
}

/// `smtp.*`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// `smtp://…` URL; e-mails are only logged when unset.
    pub url: Option<Secret>,
    /// The sender of invitation e-mails.
    pub from: String,
}

/// `avatar.*`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvatarSettings {
    /// Upload tickets per user per window.
    pub tries_per_window: u32,
    /// The rolling window, in seconds.
    pub window_seconds: u64,
    /// How long an upload ticket and its presigned URL stay valid, in seconds.
    pub ticket_ttl_seconds: u64,
}

/// `profiles.*`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilesSettings {
    /// The superuser who filed a profile may not decide it (barong's `BARONG_PROFILE_DOUBLE_VERIFICATION`).
    pub double_verification: bool,
    /// The user's own responses show the last name as its first letter and `*`s and the dob as `YYYY-MM-**`.
    pub mask_personal_data: bool,
    /// Fields a profile must hold to be submitted (`first_name`, `country`, …).
    pub required_on_submit: Parsed<Vec<Field>>,
    /// Level steps, lowest first, each `label:value`.
    pub levels: Parsed<LevelSteps>,
    /// AES-256-GCM keys sealing personal data; a key generated into `data_dir` when empty.
    pub encryption_keys: Vec<EncryptionKey>,
    /// The id of the key that seals new values (required when `encryption_keys` is set).
    pub active_key_id: Option<String>,
}

/// One entry of `profiles.encryption_keys`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptionKey {
    /// 1..32 letters, digits, `_` or `-`; stored beside every value it seals.
    pub id: String,
    /// 32 bytes, base64.
    pub key: Secret,
}

/// `invitations.*`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationSettings {
    /// Public previews per client address per minute (in-process token bucket).
    pub preview_per_minute: u32,
    /// Invitation accepts per caller per minute (429 beyond).
    pub accept_per_minute: u32,
    /// How often the sweeper ends time-bound memberships that ran out, in seconds.
    pub sweep_interval_seconds: u64,
    /// Organization logo upload tickets per organization per day.
    pub logo_tries_per_day: u32,
    /// How often the outbox of invitation e-mails is drained, in seconds.
    pub outbox_interval_seconds: u64,
}

/// `events.*`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSettings {
    /// Days an event is kept (30 to 36,500); older ones are deleted hourly,
    /// with webhook deliveries made before then.
    pub retention_days: shared_kernel::Retention,
    /// How often events are fanned out to webhook endpoints and due
    /// deliveries are posted, in seconds.
    pub webhook_interval_seconds: u64,
    /// How long one webhook attempt may take (1 to 60 seconds); longer counts as failed.
    pub webhook_timeout_seconds: u64,
}

/// `quotas.*`: each refusal is a 429 with `Retry-After` and the code `quota.<name>`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSettings {
    /// Organizations one user may create in 24 hours.
    pub organizations_per_user_per_day: u32,
    /// Invitation e-mails one organization may queue in an hour.
    pub emails_per_organization_per_hour: u32,
    /// Invitation e-mails one address may receive in 24 hours.
    pub emails_per_recipient_per_day: u32,
    /// Unexpired pending invitations one organization may hold.
    pub pending_invitations_per_organization: u32,
}

impl QuotaSettings {
    /// The model's quota policy.
    pub fn policy(&self) -> organizations::QuotaPolicy {
        organizations::QuotaPolicy {
            organizations_per_user_per_day: self.organizations_per_user_per_day,
            emails_per_organization_per_hour: self.emails_per_organization_per_hour,
            emails_per_recipient_per_day: self.emails_per_recipient_per_day,
            pending_invitations_per_organization: self.pending_invitations_per_organization,
        }
    }
}

impl Default for QuotaSettings {
    fn default() -> Self {
        let p = organizations::QuotaPolicy::default();
        Self {
            organizations_per_user_per_day: p.organizations_per_user_per_day,
            emails_per_organization_per_hour: p.emails_per_organization_per_hour,
            emails_per_recipient_per_day: p.emails_per_recipient_per_day,
            pending_invitations_per_organization: p.pending_invitations_per_organization,
        }
    }
}

/// The dashboard's sign-in must reach a provider whose tokens the API accepts.
fn check_oidc_sign_in(oidc: &OidcSignIn, a: &AuthSettings) -> Result<(), SettingsError> {
    let refuse = |why: String| Err(SettingsError::Inconsistent(format!("auth.oidc: {why}")));
    if !secure_url(&oidc.issuer) {
        return refuse(format!("the issuer must be https (http only to this machine): {}", oidc.issuer));
    }
    if oidc.client_id.trim().is_empty() {
        return refuse("set the dashboard's client_id".into());
    }
    if !oidc.scopes.iter().any(|s| s == "openid") {
        return refuse("the scopes must include openid".into());
    }
    if a.jwks_url.is_none() && a.jwks_file.is_none() && !a.oidc_discovery {
        return refuse(
            "the API verifies tokens with its own secret only, so it would refuse the provider's: set \
             auth.oidc_discovery (or auth.jwks_url) too"
                .into(),
        );
    }
    // Character for character, as the provider's discovery document and the tokens' `iss` must be.
    if let Some(issuer) = &a.issuer
        && *issuer != oidc.issuer
    {
        return refuse(format!(
            "the dashboard would sign people in at {} while the API accepts tokens of {issuer} only",
            oidc.issuer
        ));
    }
    Ok(())
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (colours on a terminal).
    Pretty,
    /// One JSON object per line.
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings {
                addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
                public_url: None,
                workers: 0,
                shutdown_timeout_seconds: 30,
                drain_seconds: 0,
                body_timeout_seconds: 15,
                cors_allowed_origins: Parsed::default(),
                trusted_proxies: Parsed::default(),
            },
            data_dir: PathBuf::from("./data"),
            database: DatabaseSettings { url: None, max_connections: 0, acquire_timeout_seconds: 3 },
            auth: AuthSettings {
                hs256_secret: None,
                jwks_url: None,
                jwks_file: None,
                oidc_discovery: false,
                insecure_any_issuer_and_audience: false,
                issuer: None,
                audience: None,
                bootstrap_superusers: Parsed::default(),
                local_token_ttl_seconds: 3600,
                jwks_cache_seconds: 300,
                jwks_min_refresh_seconds: 5,
                discord_id_claim: None,
                oidc: None,
            },
            storage: StorageSettings {
                kind: StorageKind::Local(LocalStorage::default()),
                sweep_interval_seconds: 60,
                max_concurrent_uploads: adapter_s3::local::DEFAULT_CONCURRENT_UPLOADS,
            },
            discord: DiscordSettings { api_base: "https://discord.com/api/v10".to_owned(), bot_token: None },
            features: FeatureSettings { photo_verification: false },
            photo_verification: PhotoVerificationSettings { require_discord: true },
            smtp: SmtpSettings { url: None, from: "Usher <no-reply@localhost>".to_owned() },
            avatar: AvatarSettings { tries_per_window: 5, window_seconds: 24 * 3600, ticket_ttl_seconds: 600 },
            profiles: ProfilesSettings {
                double_verification: true,
                mask_personal_data: false,
                required_on_submit: Parsed::default(),
                levels: Parsed::new(vec!["email:verified".to_owned(), "profile:verified".to_owned()])
                    .expect("the default level steps parse"),
                encryption_keys: Vec::new(),
                active_key_id: None,
            },
            invitations: InvitationSettings {
                preview_per_minute: 30,
                accept_per_minute: 30,
                sweep_interval_seconds: 60,
                logo_tries_per_day: 20,
                outbox_interval_seconds: 5,
            },
            quotas: QuotaSettings::default(),
            events: EventSettings {
                retention_days: shared_kernel::Retention::DEFAULT,
                webhook_interval_seconds: 2,
                webhook_timeout_seconds: 10,
            },
            log_format: LogFormat::Pretty,
            metrics: MetricsSettings::default(),
            env: Environment::Development,
        }
    }
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A file or variable could not be parsed or named an unknown key.
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    /// The values parse but do not make sense together.
    #[error("invalid configuration: {0}")]
    Inconsistent(String),
}

impl Settings {
    /// Loads defaults, then `config_file` (or `./usher.toml` if it exists),
    /// then the `USHER_*` environment.
    pub fn load(config_file: Option<&Path>) -> Result<Self, SettingsError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match config_file {
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new("usher.toml").exists() => figment = figment.merge(Toml::file_exact("usher.toml")),
            None => {}
        }
        figment = figment.merge(Env::prefixed("USHER_").split("__").ignore(&["config"]));
        let settings: Settings = figment.extract().map_err(Box::new)?;
        settings.check()?;
        Ok(settings)
    }

    /// The secrets this configuration leaves to be generated into
    /// `data_dir`, by setting name. Each replica would generate its own, so
    /// tokens, upload URLs and sealed personal data of one would be
    /// unreadable to another.
    pub fn generated_secrets(&self) -> Vec<&'static str> {
        let a = &self.auth;
        let mut names = Vec::new();
        if a.hs256_secret.is_none() && a.jwks_url.is_none() && a.jwks_file.is_none() && !a.oidc_discovery {
            names.push("auth.hs256_secret");
        }
        if matches!(self.storage.kind, StorageKind::Local(LocalStorage { signing_key: None })) {
            names.push("storage.signing_key");
        }
        if self.profiles.encryption_keys.is_empty() {
            names.push("profiles.encryption_keys");
        }
        names
    }

    /// Whether `usher serve` may start with these settings: in production
    /// not with generated secrets (an error saying which to set); otherwise
    /// yes, with a warning to log when generated secrets meet PostgreSQL,
    /// the database replicas share.
    pub fn serving_advice(&self) -> Result<Option<String>, SettingsError> {
        let generated = self.generated_secrets();
        if generated.is_empty() {
            return Ok(None);
        }
        let why = format!(
            "{} would be generated into data_dir; replicas must share them, and a key generated on one replica \
             makes another replica's tokens, upload URLs and sealed personal data unreadable",
            generated.join(", ")
        );
        match self.env {
            Environment::Production => {
                Err(SettingsError::Inconsistent(format!("USHER_ENV=production refuses to serve: set {why}")))
            }
            Environment::Development if self.database_url().starts_with("postgres") => Ok(Some(format!(
                "serving on PostgreSQL with generated secrets: {why}; set them (USHER_ENV=production refuses to start without them)"
            ))),
            Environment::Development => Ok(None),
        }
    }

    /// Checks combinations that each parse but conflict.
    pub fn check(&self) -> Result<(), SettingsError> {
        let a = &self.auth;
        let sources = [a.hs256_secret.is_some(), a.jwks_url.is_some(), a.jwks_file.is_some()];
        if sources.iter().filter(|s| **s).count() > 1 {
            return Err(SettingsError::Inconsistent(
                "set only one of auth.hs256_secret, auth.jwks_url and auth.jwks_file".into(),
            ));
        }
        if a.oidc_discovery && (a.issuer.is_none() || a.jwks_url.is_some() || a.jwks_file.is_some()) {
            return Err(SettingsError::Inconsistent(
                "auth.oidc_discovery reads the keys from auth.issuer: set auth.issuer, and neither auth.jwks_url nor \
                 auth.jwks_file"
                    .into(),
            ));
        }
        let provider = a.jwks_url.is_some() || a.jwks_file.is_some() || a.oidc_discovery;
        if provider && !a.insecure_any_issuer_and_audience && (a.issuer.is_none() || a.audience.is_none()) {
            return Err(SettingsError::Inconsistent(
                "with an identity provider's keys (auth.jwks_url, auth.jwks_file or auth.oidc_discovery), set \
                 auth.issuer and auth.audience, or auth.insecure_any_issuer_and_audience = true"
                    .into(),
            ));
        }
        for (name, url) in
            [("auth.jwks_url", a.jwks_url.as_ref()), ("auth.issuer", a.issuer.as_ref().filter(|_| a.oidc_discovery))]
        {
            if let Some(url) = url
                && !secure_url(url)
            {
                return Err(SettingsError::Inconsistent(format!(
                    "{name} must be https (http only to this machine): {url}"
                )));
            }
        }
        if let Some(oidc) = &a.oidc {
            check_oidc_sign_in(oidc, a)?;
        }
        if a.hs256_secret.as_ref().is_some_and(|s| s.expose().len() < 32) {
            return Err(SettingsError::Inconsistent("auth.hs256_secret must be at least 32 bytes".into()));
        }
        if !(1..=3600).contains(&self.avatar.ticket_ttl_seconds) || self.storage.sweep_interval_seconds == 0 {
            return Err(SettingsError::Inconsistent(
                "avatar.ticket_ttl_seconds must be 1..=3600 and storage.sweep_interval_seconds positive".into(),
            ));
        }
        let i = &self.invitations;
        if i.preview_per_minute == 0
            || i.accept_per_minute == 0
            || i.sweep_interval_seconds == 0
            || i.logo_tries_per_day == 0
            || i.outbox_interval_seconds == 0
        {
            return Err(SettingsError::Inconsistent(
                "invitations.preview_per_minute, accept_per_minute, sweep_interval_seconds, logo_tries_per_day and \
                 outbox_interval_seconds must be positive"
                    .into(),
            ));
        }
        if self.events.webhook_interval_seconds == 0 || !(1..=60).contains(&self.events.webhook_timeout_seconds) {
            return Err(SettingsError::Inconsistent(
                "events.webhook_interval_seconds must be positive and events.webhook_timeout_seconds 1..=60".into(),
            ));
        }
        if self.avatar.tries_per_window == 0 || self.avatar.window_seconds == 0 {
            return Err(SettingsError::Inconsistent(
                "avatar.tries_per_window and avatar.window_seconds must be positive".into(),
            ));
        }
        if self.auth.discord_id_claim.as_deref().is_some_and(|c| c.trim().is_empty()) {
            return Err(SettingsError::Inconsistent("auth.discord_id_claim must not be empty when set".into()));
        }
        if !(self.discord.api_base.starts_with("http://") || self.discord.api_base.starts_with("https://")) {
            return Err(SettingsError::Inconsistent("discord.api_base must start with http:// or https://".into()));
        }
        if let Some(url) = &self.server.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(SettingsError::Inconsistent("server.public_url must start with http:// or https://".into()));
        }
        self.profiles.check()?;
        Ok(())
    }

    /// The database URL, defaulting to SQLite in `data_dir`.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.expose().to_owned(),
            None => format!("sqlite://{}", self.data_dir.join("usher.db").display()),
        }
    }

    /// The pool size, resolving 0 to four per core within 4..=32.
    pub fn max_connections(&self) -> u32 {
        if self.database.max_connections > 0 {
            return self.database.max_connections;
        }
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        u32::try_from(cores * 4).unwrap_or(32).clamp(4, 32)
    }

    /// The public base URL, given the address the listener actually bound.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        match &self.server.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }

    /// The effective settings as TOML, secrets redacted.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# could not render settings: {e}\n"))
    }
}

impl ProfilesSettings {
    /// Field names, level steps and encryption keys must all parse.
    pub fn check(&self) -> Result<(), SettingsError> {
        let bad = |m: String| Err(SettingsError::Inconsistent(m));
        for key in &self.encryption_keys {
            if !adapter_crypto::is_valid_key_id(&key.id) {
                return bad(format!(
                    "profiles.encryption_keys: id {:?} must be 1..32 letters, digits, `_` or `-`",
                    key.id
                ));
            }
            if let Err(e) = adapter_crypto::decode_key(key.key.expose()) {
                return bad(format!("profiles.encryption_keys: key {:?}: {e}", key.id));
            }
        }
        match (&self.active_key_id, self.encryption_keys.is_empty()) {
            (None, false) => bad("profiles.active_key_id is required with profiles.encryption_keys".into()),
            (Some(_), true) => bad("profiles.active_key_id names a key but profiles.encryption_keys is empty".into()),
            (Some(id), false) if !self.encryption_keys.iter().any(|k| &k.id == id) => {
                bad(format!("profiles.active_key_id {id:?} is not among profiles.encryption_keys"))
            }
            _ => Ok(()),
        }
    }
}

fn list_or_comma_separated<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        One(String),
    }
    Ok(match ListOrString::deserialize(d)? {
        ListOrString::List(list) => list,
        ListOrString::One(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
    })
}

/// A list setting (a TOML list, or one comma-separated string as the
/// environment gives it) parsed when the settings are read: a bad entry
/// fails the load naming the key, and the service only ever sees the parsed
/// value. It prints (and serializes) as written.
#[derive(Clone, Default)]
pub struct Parsed<T> {
    raw: Vec<String>,
    value: T,
}

/// A type a list setting parses into.
pub trait FromSettingList: Sized {
    /// Parses the entries, or says which one is wrong and why.
    fn from_setting_list(raw: &[String]) -> Result<Self, String>;
}

impl<T: FromSettingList> Parsed<T> {
    /// Parses `raw`.
    pub fn new(raw: Vec<String>) -> Result<Self, String> {
        let value = T::from_setting_list(&raw)?;
        Ok(Self { raw, value })
    }
}

impl<T> Parsed<T> {
    /// The parsed value.
    pub fn get(&self) -> &T {
        &self.value
    }

    /// The entries as written.
    pub fn raw(&self) -> &[String] {
        &self.raw
    }
}

impl<T> fmt::Debug for Parsed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.raw.fmt(f)
    }
}

impl<T> Serialize for Parsed<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl<'de, T: FromSettingList> Deserialize<'de> for Parsed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(list_or_comma_separated(d)?).map_err(serde::de::Error::custom)
    }
}

impl FromSettingList for Vec<EmailAddress> {
    fn from_setting_list(raw: &[String]) -> Result<Self, String> {
        raw.iter().map(|e| EmailAddress::parse(e).map_err(|_| format!("{e:?} is not an e-mail address"))).collect()
    }
}

impl FromSettingList for Vec<Field> {
    fn from_setting_list(raw: &[String]) -> Result<Self, String> {
        raw.iter().map(|f| Field::parse(f).ok_or_else(|| format!("{f:?} is not a profile field"))).collect()
    }
}

impl FromSettingList for LevelSteps {
    fn from_setting_list(raw: &[String]) -> Result<Self, String> {
        LevelSteps::parse(raw).map_err(|e| e.to_string())
    }
}

/// Web origins written exactly as a browser sends them in `Origin`:
/// scheme, host and port only (`https://app.example.com`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExactOrigins(Vec<String>);

impl ExactOrigins {
    /// The origins, as written.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

impl FromSettingList for ExactOrigins {
    fn from_setting_list(raw: &[String]) -> Result<Self, String> {
        let exact = |origin: &String| {
            url::Url::parse(origin)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .is_some_and(|u| u.origin().ascii_serialization() == *origin)
        };
        match raw.iter().find(|origin| !exact(origin)) {
            Some(origin) => Err(format!(
                "{origin:?} is not an exact origin like https://app.example.com (scheme, host and port only; no \
                 path, slash or wildcard)"
            )),
            None => Ok(Self(raw.to_vec())),
        }
    }
}

impl FromSettingList for TrustedProxies {
    fn from_setting_list(raw: &[String]) -> Result<Self, String> {
        TrustedProxies::parse(raw)
    }
}

/// Whether `url` is https, or http to this machine (a development provider).
pub fn secure_url(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else { return false };
    match parsed.scheme() {
        "https" => true,
        "http" => match parsed.host() {
            Some(url::Host::Domain(domain)) => domain == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
#[expect(clippy::result_large_err, reason = "figment::Jail's closures return figment::Error, which is large")]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn production_refuses_generated_secrets_and_postgres_warns_about_them() {
        let mut s = Settings::default();
        assert_eq!(s.generated_secrets(), ["auth.hs256_secret", "storage.signing_key", "profiles.encryption_keys"]);
        assert_eq!(s.serving_advice().unwrap(), None, "the embedded defaults serve quietly");
        s.database.url = Some(Secret::new("postgres://u@db/usher"));
        let warning = s.serving_advice().unwrap().expect("a warning on PostgreSQL");
        assert!(warning.contains("auth.hs256_secret, storage.signing_key, profiles.encryption_keys"), "{warning}");
        s.env = Environment::Production;
        let refused = s.serving_advice().unwrap_err().to_string();
        assert!(refused.contains("USHER_ENV=production") && refused.contains("storage.signing_key"), "{refused}");

        s.auth.jwks_url = Some("https://idp.example.com/jwks".into());
        s.storage.kind = StorageKind::S3(S3Storage {
            endpoint: "https://acct.r2.cloudflarestorage.com".into(),
            bucket: "usher".into(),
            region: "auto".into(),
            access_key_id: "id".into(),
            secret_access_key: Secret::new("secret"),
            public_base_url: "https://img.example.com".into(),
        });
        s.profiles.encryption_keys = vec![EncryptionKey { id: "k1".into(), key: Secret::new("a".repeat(44)) }];
        assert!(s.generated_secrets().is_empty());
        assert_eq!(s.serving_advice().unwrap(), None);
    }

    #[test]
    fn an_identity_provider_needs_issuer_audience_and_https_unless_opted_out() {
        let mut s = Settings::default();
        s.auth.jwks_url = Some("https://idp.example.com/jwks".into());
        assert!(s.check().unwrap_err().to_string().contains("auth.issuer and auth.audience"));
        s.auth.issuer = Some("https://idp.example.com".into());
        s.auth.audience = Some("usher".into());
        assert!(s.check().is_ok());
        for (url, ok) in [
            ("http://idp.example.com/jwks", false),
            ("http://127.0.0.1:9000/jwks", true),
            ("http://localhost:9000/jwks", true),
            ("http://[::1]:9000/jwks", true),
            ("ftp://idp.example.com/jwks", false),
        ] {
            s.auth.jwks_url = Some(url.into());
            assert_eq!(s.check().is_ok(), ok, "{url}");
        }
        s.auth.jwks_url = Some("https://idp.example.com/jwks".into());
        s.auth.audience = None;
        s.auth.insecure_any_issuer_and_audience = true;
        assert!(s.check().is_ok(), "an explicit opt-out");

        let mut discovery = Settings::default();
        discovery.auth.oidc_discovery = true;
        assert!(discovery.check().is_err(), "discovery needs an issuer");
        discovery.auth.issuer = Some("http://idp.example.com".into());
        discovery.auth.audience = Some("usher".into());
        assert!(discovery.check().is_err(), "over https");
        discovery.auth.issuer = Some("https://idp.example.com".into());
        assert!(discovery.check().is_ok());
        assert!(!discovery.generated_secrets().contains(&"auth.hs256_secret"));
    }

    #[test]
    fn the_dashboards_sign_in_must_reach_a_provider_the_api_accepts() {
        let refused = |s: &Settings| s.check().err().map(|e| e.to_string()).unwrap_or_default();
        let mut s = Settings::default();
        s.auth.oidc = Some(OidcSignIn {
            issuer: "https://idp.example.com/".into(),
            client_id: "usher-dashboard".into(),
            scopes: OidcSignIn::default_scopes(),
            audience: None,
        });
        assert!(
            refused(&s).contains("set auth.oidc_discovery"),
            "the development secret cannot verify provider tokens"
        );
        s.auth.oidc_discovery = true;
        s.auth.issuer = Some("https://other.example.com".into());
        s.auth.audience = Some("usher".into());
        assert!(refused(&s).contains("accepts tokens of https://other.example.com only"), "{}", refused(&s));
        s.auth.issuer = Some("https://idp.example.com".into());
        assert!(
            refused(&s).contains("accepts tokens of https://idp.example.com only"),
            "a trailing slash makes another issuer"
        );
        s.auth.issuer = Some("https://idp.example.com/".into());
        assert!(s.check().is_ok(), "{}", refused(&s));
        for (change, why) in [
            ((|o: &mut OidcSignIn| o.issuer = "http://idp.example.com".into()) as fn(&mut OidcSignIn), "https"),
            (|o: &mut OidcSignIn| o.client_id = " ".into(), "client_id"),
            (|o: &mut OidcSignIn| o.scopes = vec!["email".into()], "openid"),
        ] {
            let mut bad = s.clone();
            change(bad.auth.oidc.as_mut().unwrap());
            assert!(refused(&bad).contains(why), "{why}: {}", refused(&bad));
        }
    }

    #[test]
    fn oidc_sign_in_loads_from_the_environment_with_default_scopes() {
        Jail::expect_with(|jail| {
            jail.set_env("USHER_AUTH__OIDC__ISSUER", "https://idp.example.com");
            jail.set_env("USHER_AUTH__OIDC__CLIENT_ID", "usher-dashboard");
            jail.set_env("USHER_AUTH__OIDC_DISCOVERY", "true");
            jail.set_env("USHER_AUTH__ISSUER", "https://idp.example.com");
            jail.set_env("USHER_AUTH__AUDIENCE", "usher");
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            let oidc = s.auth.oidc.expect("auth.oidc is set");
            assert_eq!(oidc.scopes, ["openid", "email", "profile"]);
            assert_eq!(oidc.audience, None);
            Ok(())
        });
    }

    #[test]
    fn cors_origins_are_exact_origins_from_a_list_or_the_environment() {
        Jail::expect_with(|jail| {
            jail.set_env("USHER_SERVER__CORS_ALLOWED_ORIGINS", "https://app.example.com, http://localhost:5173");
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(
                s.server.cors_allowed_origins.get().as_slice(),
                ["https://app.example.com", "http://localhost:5173"]
            );
            jail.set_env("USHER_SERVER__CORS_ALLOWED_ORIGINS", "https://app.example.com/");
            let refused = Settings::load(None).unwrap_err().to_string();
            assert!(refused.contains("not an exact origin") && refused.contains("CORS_ALLOWED_ORIGINS"), "{refused}");
            Ok(())
        });
        for bad in ["*", "https://app.example.com/", "https://app.example.com/path", "app.example.com", "ftp://x.io"] {
            assert!(Parsed::<ExactOrigins>::new(vec![bad.to_owned()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn storage_kind_s3_takes_its_settings_from_the_environment_and_names_a_missing_one() {
        Jail::expect_with(|jail| {
            jail.set_env("USHER_STORAGE__KIND", "s3");
            jail.set_env("USHER_STORAGE__ENDPOINT", "https://acct.r2.cloudflarestorage.com");
            jail.set_env("USHER_STORAGE__BUCKET", "usher");
            jail.set_env("USHER_STORAGE__ACCESS_KEY_ID", "key-id");
            jail.set_env("USHER_STORAGE__SECRET_ACCESS_KEY", "a-secret");
            jail.set_env("USHER_STORAGE__PUBLIC_BASE_URL", "https://img.example.com");
            jail.set_env("USHER_STORAGE__SWEEP_INTERVAL_SECONDS", "30");
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            let StorageKind::S3(s3) = &s.storage.kind else { panic!("not s3: {:?}", s.storage) };
            assert_eq!((s3.endpoint.as_str(), s3.bucket.as_str()), ("https://acct.r2.cloudflarestorage.com", "usher"));
            assert_eq!((s3.region.as_str(), s3.access_key_id.as_str()), ("auto", "key-id"));
            assert_eq!(s3.secret_access_key.expose(), "a-secret");
            assert_eq!(s3.public_base_url, "https://img.example.com");
            assert_eq!(s.storage.sweep_interval_seconds, 30);
            assert_eq!(s.storage.max_concurrent_uploads, adapter_s3::local::DEFAULT_CONCURRENT_UPLOADS);
            assert!(s.generated_secrets().iter().all(|n| !n.starts_with("storage")));
            let printed = s.to_redacted_toml();
            assert!(printed.contains("kind = \"s3\"") && !printed.contains("a-secret"), "{printed}");

            jail.set_env("USHER_STORAGE__SIGNING_KEY", "a-local-key-of-at-least-32-bytes!!");
            let refused = Settings::load(None).unwrap_err().to_string();
            assert!(refused.contains("unknown field") && refused.contains("signing_key"), "{refused}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.create_file("usher.toml", "[storage]\nkind = \"s3\"\nendpoint = \"https://s3.example.com\"\n")?;
            let refused = Settings::load(None).unwrap_err().to_string();
            assert!(refused.contains("missing field `bucket`") && refused.contains("storage"), "{refused}");
            jail.set_env("USHER_STORAGE__KIND", "local");
            let refused = Settings::load(None).unwrap_err().to_string();
            assert!(refused.contains("unknown field") && refused.contains("`endpoint`"), "{refused}");
            jail.set_env("USHER_STORAGE__KIND", "ftp");
            assert!(Settings::load(None).is_err(), "an unknown kind");
            Ok(())
        });
    }

    #[test]
    fn events_are_kept_ninety_days_unless_set_and_never_under_thirty() {
        Jail::expect_with(|jail| {
            assert_eq!(Settings::load(None).map_err(|e| e.to_string())?.events.retention_days.get(), 90);
            jail.set_env("USHER_EVENTS__RETENTION_DAYS", "30");
            assert_eq!(Settings::load(None).map_err(|e| e.to_string())?.events.retention_days.get(), 30);
            jail.set_env("USHER_EVENTS__RETENTION_DAYS", "29");
            let refused = Settings::load(None).unwrap_err().to_string();
            assert!(refused.contains("at least 30 and at most 36500 days, not 29"), "{refused}");
            jail.set_env("USHER_EVENTS__RETENTION_DAYS", "4294967295");
            assert!(Settings::load(None).is_err(), "a cutoff before year 1 would overflow");
            Ok(())
        });
    }

    #[test]
    fn the_embedded_defaults_need_no_file_and_no_environment() {
        Jail::expect_with(|_| {
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(s.server.addr.to_string(), "127.0.0.1:8080");
            assert_eq!(s.database_url(), "sqlite://./data/usher.db");
            assert!(matches!(s.storage.kind, StorageKind::Local(LocalStorage { signing_key: None })));
            assert_eq!(s.discord.api_base, "https://discord.com/api/v10");
            assert!(!s.features.photo_verification);
            assert!(s.photo_verification.require_discord);
            assert_eq!(s.auth.discord_id_claim, None);
            Ok(())
        });
    }

    #[test]
    fn the_environment_overrides_the_file_which_overrides_the_defaults() {
        Jail::expect_with(|jail| {
            jail.create_file("usher.toml", "data_dir = \"/srv/usher\"\n[server]\naddr = \"0.0.0.0:9000\"\n")?;
            jail.set_env("USHER_SERVER__ADDR", "127.0.0.1:0");
            jail.set_env("USHER_DATABASE__URL", "postgres://u:pw@db/usher");
            jail.set_env("USHER_AUTH__BOOTSTRAP_SUPERUSERS", "ada@x.io, bob@x.io");
            jail.set_env("USHER_LOG_FORMAT", "json");
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(s.data_dir, PathBuf::from("/srv/usher"));
            assert_eq!(s.server.addr.port(), 0);
            assert_eq!(s.database_url(), "postgres://u:pw@db/usher");
            assert_eq!(s.auth.bootstrap_superusers.raw(), ["ada@x.io", "bob@x.io"]);
            assert_eq!(s.auth.bootstrap_superusers.get()[1], EmailAddress::parse("bob@x.io").unwrap());
            assert_eq!(s.log_format, LogFormat::Json);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused_so_typos_do_not_pass_silently() {
        Jail::expect_with(|jail| {
            jail.set_env("USHER_SERVER__ADRR", "127.0.0.1:1");
            assert!(Settings::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn secrets_never_appear_in_debug_or_in_the_printed_configuration() {
        let mut s = Settings::default();
        s.auth.hs256_secret = Some(Secret::new("a-very-secret-value-of-32-bytes!!"));
        s.database.url = Some(Secret::new("postgres://u:hunter2@db/usher"));
        let printed = format!("{s:?}\n{}", s.to_redacted_toml());
        assert!(!printed.contains("a-very-secret-value"));
        assert!(!printed.contains("hunter2"));
        assert!(printed.contains("***"));
    }

    #[test]
    fn photo_verification_settings_come_from_the_environment() {
        Jail::expect_with(|jail| {
            jail.set_env("USHER_FEATURES__PHOTO_VERIFICATION", "true");
            jail.set_env("USHER_PHOTO_VERIFICATION__REQUIRE_DISCORD", "false");
            jail.set_env("USHER_AUTH__DISCORD_ID_CLAIM", "discord_id");
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            assert!(s.features.photo_verification);
            assert!(!s.photo_verification.require_discord);
            assert_eq!(s.auth.discord_id_claim.as_deref(), Some("discord_id"));
            jail.set_env("USHER_DISCORD__API_BASE", "ftp://discord");
            assert!(Settings::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn conflicting_key_sources_are_refused() {
        let mut s = Settings::default();
        s.auth.hs256_secret = Some(Secret::new("x".repeat(32)));
        s.auth.jwks_url = Some("https://idp/jwks".into());
        assert!(s.check().is_err());
        s.auth.jwks_url = None;
        s.auth.hs256_secret = Some(Secret::new("short"));
        assert!(s.check().is_err());
    }

    #[test]
    fn profile_settings_default_to_four_eyes_and_check_fields_levels_and_keys() {
        Jail::expect_with(|jail| {
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            assert!(s.profiles.double_verification && !s.profiles.mask_personal_data);
            assert_eq!(s.profiles.levels.raw(), ["email:verified", "profile:verified"]);
            jail.set_env("USHER_PROFILES__REQUIRED_ON_SUBMIT", "first_name, country");
            jail.create_file(
                "usher.toml",
                "[profiles]\nactive_key_id = \"k2\"\nencryption_keys = [\n  { id = \"k1\", key = \"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\" },\n  { id = \"k2\", key = \"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\" },\n]\n",
            )?;
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(s.profiles.required_on_submit.get(), &[Field::FirstName, Field::Country]);
            assert_eq!(s.profiles.encryption_keys.len(), 2);
            assert!(!s.to_redacted_toml().contains("AQEBAQ"), "keys are secrets");
            Ok(())
        });
        assert!(Parsed::<Vec<Field>>::new(vec!["state".into()]).is_err());
        assert!(Parsed::<LevelSteps>::new(vec!["email".into()]).is_err());
        let mut s = Settings::default();
        s.profiles.encryption_keys = vec![EncryptionKey { id: "k1".into(), key: Secret::new("c2hvcnQ=") }];
        s.profiles.active_key_id = Some("k1".into());
        assert!(s.check().is_err(), "a key must be 32 bytes");
        s.profiles.encryption_keys[0].key = Secret::new("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=");
        assert!(s.check().is_ok());
        s.profiles.active_key_id = Some("k9".into());
        assert!(s.check().is_err(), "the active key must be configured");
        s.profiles.active_key_id = None;
        assert!(s.check().is_err(), "keys need an active one");
    }
}
