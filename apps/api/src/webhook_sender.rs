//! Posts webhook attempts over HTTP: `events.webhook_timeout_seconds` at most (10 by default), no redirects, and
//! never to an address of a private network, whatever a host name resolves
//! to at the moment of sending (the URL's own check covers IP literals only).

use async_trait::async_trait;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use webhooks::{Attempt, EndpointUrl, Sender, WebhookHeaders};

/// Whether a delivery may connect to `ip`: a public address, or loopback
/// while the service itself runs on loopback.
fn reachable(ip: IpAddr, loopback: bool) -> bool {
    !webhooks::endpoint::private(ip) || (loopback && ip.is_loopback())
}

/// Resolves with the system resolver and keeps only the reachable addresses.
struct PublicOnly {
    loopback: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let loopback = self.loopback;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let kept: Vec<SocketAddr> = found.filter(|a| reachable(a.ip(), loopback)).collect();
            if kept.is_empty() {
                return Err(format!("{} resolves to no public address", name.as_str()).into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// The HTTP sender of webhook attempts.
pub struct HttpSender {
    http: reqwest::Client,
    loopback: bool,
    timeout: Duration,
}

impl HttpSender {
    /// A sender whose attempts take at most `timeout`, connecting and
    /// answering included; `loopback` allows loopback receivers (the service runs on loopback).
    pub fn new(loopback: bool, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the host itself, past the address check below.
            .no_proxy()
            .user_agent(concat!("Usher-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(PublicOnly { loopback }))
            .build()?;
        Ok(Self { http, loopback, timeout })
    }
}

#[async_trait]
impl Sender for HttpSender {
    async fn post(&self, url: &EndpointUrl, headers: &WebhookHeaders, body: &[u8], at: OffsetDateTime) -> Attempt {
        let started = Instant::now();
        let elapsed = || u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        let literal = reqwest::Url::parse(url.as_str()).ok().and_then(|u| match u.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        });
        if literal.is_some_and(|ip| !reachable(ip, self.loopback)) {
            return Attempt::unanswered(at, 0, "the URL names an address of a private network");
        }
        let sent = self
            .http
            .post(url.as_str())
            .header("content-type", "application/json")
            .header("webhook-id", &headers.id)
            .header("webhook-timestamp", &headers.timestamp)
            .header("webhook-signature", &headers.signature)
            .body(body.to_vec())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => return Attempt::unanswered(at, elapsed(), &describe(&e, self.timeout)),
        };
        let status = response.status().as_u16();
        // Only the excerpt is kept, so no more than that is read.
        let mut excerpt = Vec::new();
        let mut response = response;
        while excerpt.len() < webhooks::delivery::EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        Attempt::answered(at, status, elapsed(), &excerpt)
    }
}

/// What went wrong, in words an admin reads (reqwest's chain, without the URL's query).
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    let what = if e.is_timeout() {
        format!("timed out after {} s", timeout.as_secs())
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() { what } else { format!("{what}: {cause}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_reachable_and_loopback_only_on_a_loopback_service() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(reachable(ip("93.184.215.14"), false));
        assert!(!reachable(ip("10.1.2.3"), false));
        assert!(!reachable(ip("169.254.169.254"), true));
        assert!(!reachable(ip("127.0.0.1"), false));
        assert!(reachable(ip("127.0.0.1"), true));
        assert!(reachable(ip("::1"), true));
        assert!(!reachable(ip("fd00::1"), true));
    }
}
