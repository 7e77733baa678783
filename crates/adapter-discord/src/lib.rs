//! `DiscordAvatars` over Discord's REST API v10: `GET {api_base}/users/{id}`
//! with `Authorization: Bot <token>`.
//!
//! - Animated avatars (`a_…` hashes) are served as `.gif`, others as `.png`;
//!   a user without an avatar gets Discord's default avatar
//!   `embed/avatars/{(id >> 22) % 6}.png`.
//! - 5 s timeout per request; network errors and 5xx are retried twice with
//!   exponential backoff; a 429 is waited out when Discord asks for at most
//!   10 s, else it becomes `RateLimited`; 404 is `UserNotFound`; 401/403 is
//!   `Unauthorized` (and logged as an error: the bot token is wrong).
//! - Without a bot token every call is `NotConfigured`, with no I/O.
#![forbid(unsafe_code)]

use anyhow::anyhow;
use async_trait::async_trait;
use photo_verification::{DiscordAvatar, DiscordAvatars, DiscordError};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use serde::Deserialize;
use shared_kernel::DiscordId;
use std::time::Duration;

/// Discord's CDN.
pub const CDN_BASE: &str = "https://cdn.discordapp.com";

/// How the client talks to Discord.
#[derive(Clone, Debug)]
pub struct DiscordConfig {
    /// REST base, `https://discord.com/api/v10` (a fake server's URL in tests).
    pub api_base: String,
    /// The bot token; `None` means Discord is not configured.
    pub bot_token: Option<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// First retry delay; doubled for the second.
    pub backoff: Duration,
    /// The longest `retry_after` that is waited out instead of failing.
    pub max_rate_limit_wait: Duration,
}

impl DiscordConfig {
    /// The production defaults: 5 s timeout, 250 ms backoff, 10 s rate-limit wait.
    pub fn new(api_base: impl Into<String>, bot_token: Option<String>) -> Self {
        Self {
            api_base: api_base.into(),
            bot_token,
            timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(250),
            max_rate_limit_wait: Duration::from_secs(10),
        }
    }
}

/// Retries after the first try, for network errors, 5xx and short 429s.
const RETRIES: u32 = 2;

/// The Discord REST client.
pub struct DiscordClient {
    http: reqwest::Client,
    config: DiscordConfig,
}

impl std::fmt::Debug for DiscordClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the bot token.
        f.debug_struct("DiscordClient")
            .field("api_base", &self.config.api_base)
            .field("configured", &self.config.bot_token.is_some())
            .finish()
    }
}

#[derive(Deserialize)]
struct DiscordUser {
    avatar: Option<String>,
}

#[derive(Deserialize)]
struct RateLimitBody {
    retry_after: Option<f64>,
}

impl DiscordClient {
    /// Builds the client.
    pub fn new(config: DiscordConfig) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent("usher (https://github.com/usher, 0.1)")
            .build()
            .map_err(|e| anyhow!(e).context("building the Discord HTTP client"))?;
        Ok(Self { http, config })
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.config.backoff.saturating_mul(2u32.saturating_pow(attempt))
    }
}

/// The avatar URL for a user's avatar hash (or the default avatar).
pub fn avatar_url(id: &DiscordId, hash: Option<&str>) -> String {
    match hash {
        Some(hash) => {
            let ext = if hash.starts_with("a_") { "gif" } else { "png" };
            format!("{CDN_BASE}/avatars/{id}/{hash}.{ext}?size=512")
        }
        None => format!("{CDN_BASE}/embed/avatars/{}.png", (id.as_u64() >> 22) % 6),
    }
}

/// Discord's hashes are hex with an optional `a_`; anything else is refused
/// rather than pasted into a URL.
fn plausible_hash(hash: &str) -> bool {
    !hash.is_empty() && hash.len() <= 64 && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Seconds to wait from a 429: the JSON `retry_after`, else the header.
fn retry_after(headers: &reqwest::header::HeaderMap, body: &str) -> Duration {
    let from_body = serde_json::from_str::<RateLimitBody>(body).ok().and_then(|b| b.retry_after);
    let from_header = headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok());
    let seconds = from_body.or(from_header).filter(|s| s.is_finite() && *s >= 0.0).unwrap_or(1.0);
    Duration::from_secs_f64(seconds.min(86_400.0))
}

#[async_trait]
impl DiscordAvatars for DiscordClient {
    async fn current_avatar(&self, discord_id: &DiscordId) -> Result<DiscordAvatar, DiscordError> {
        let Some(token) = &self.config.bot_token else {
            return Err(DiscordError::NotConfigured);
        };
        let url = format!("{}/users/{discord_id}", self.config.api_base.trim_end_matches('/'));
        let mut attempt = 0;
        loop {
            let sent = self.http.get(&url).header(AUTHORIZATION, format!("Bot {token}")).send().await;
            let response = match sent {
                Ok(response) => response,
                Err(e) if attempt < RETRIES => {
                    tracing::warn!(error = %e, attempt, "Discord request failed; retrying");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(DiscordError::Unavailable(anyhow!(e).context("calling Discord"))),
            };
            let status = response.status();
            match status {
                StatusCode::OK => {
                    let user: DiscordUser = response
                        .json()
                        .await
                        .map_err(|e| DiscordError::Unavailable(anyhow!(e).context("reading Discord's user object")))?;
                    if let Some(hash) = &user.avatar
                        && !plausible_hash(hash)
                    {
                        return Err(DiscordError::Unavailable(anyhow!("Discord sent an implausible avatar hash")));
                    }
                    return Ok(DiscordAvatar {
                        url: avatar_url(discord_id, user.avatar.as_deref()),
                        hash: user.avatar,
                    });
                }
                StatusCode::NOT_FOUND => return Err(DiscordError::UserNotFound),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    tracing::error!(status = status.as_u16(), "Discord refused the bot token; check discord.bot_token");
                    return Err(DiscordError::Unauthorized);
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let headers = response.headers().clone();
                    let body = response.text().await.unwrap_or_default();
                    let wait = retry_after(&headers, &body);
                    if wait <= self.config.max_rate_limit_wait && attempt < RETRIES {
                        tracing::info!(wait_ms = wait.as_millis(), "Discord rate limit; waiting it out");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                    return Err(DiscordError::RateLimited { retry_after_seconds: seconds.max(1) });
                }
                s if s.is_server_error() && attempt < RETRIES => {
                    tracing::warn!(status = s.as_u16(), attempt, "Discord failed; retrying");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                s => return Err(DiscordError::Unavailable(anyhow!("Discord answered {s}"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn animated_hashes_are_gifs_and_no_hash_is_the_default_avatar() {
        let id = DiscordId::parse("80351110224678912").unwrap();
        assert_eq!(
            avatar_url(&id, Some("a_1269e74af4df7417b13759eae50c83dc")),
            "https://cdn.discordapp.com/avatars/80351110224678912/a_1269e74af4df7417b13759eae50c83dc.gif?size=512"
        );
        assert_eq!(
            avatar_url(&id, Some("8342729096ea3675442027381ff50dfe")),
            "https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png?size=512"
        );
        let index = (80_351_110_224_678_912u64 >> 22) % 6;
        assert_eq!(avatar_url(&id, None), format!("https://cdn.discordapp.com/embed/avatars/{index}.png"));
    }

    #[test]
    fn retry_after_comes_from_the_body_then_the_header() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers, r#"{"retry_after": 0.5}"#), Duration::from_millis(500));
        assert_eq!(retry_after(&headers, "not json"), Duration::from_secs(7));
    }
}
