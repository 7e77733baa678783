//! An endpoint: where events are posted, which of them, and whose. A
//! superuser's endpoint receives every organization's events; an
//! organization admin's receives that organization's only.

use crate::{Failing, Secrets};
use shared_kernel::{Event, UserId};
use std::net::IpAddr;
use time::OffsetDateTime;
use url::{Host, Url};
use uuid::Uuid;

shared_kernel::uuid_id!(
    /// An endpoint's id.
    EndpointId
);

/// Whose events an endpoint receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every event (registered by a superuser).
    Platform,
    /// One organization's events (registered by its admins).
    Organization(Uuid),
}

/// Where deliveries go: `https`, or `http` to this machine when the service
/// itself runs on loopback (development and tests); never with credentials
/// in it, a fragment, or an address of a private network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointUrl(Url);

/// A URL deliveries may not go to.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    /// Not of the accepted shape ([`EndpointUrl::parse`]), or longer than 2,048 characters.
    #[error(
        "must be http(s)://, a lowercase host name or IPv4 address, an optional port, then a path and query of \
         URL-safe characters (no percent-encoding), at most 2048 characters"
    )]
    Invalid,
    /// Not `https` (or `http` to loopback, where allowed).
    #[error("must be https (http only to this machine, while the service runs on loopback)")]
    Scheme,
    /// A user name or password in the URL.
    #[error("must not carry a user name or password")]
    Credentials,
    /// A `#fragment`, which a request never sends.
    #[error("must not have a #fragment")]
    Fragment,
    /// An IP address of a private, link-local or loopback network: a webhook
    /// must not become a way into the service's own network.
    #[error("must not be an address of a private, link-local or loopback network")]
    PrivateAddress,
}

impl EndpointUrl {
    /// The longest URL kept.
    pub const MAX_LEN: usize = 2048;

    /// Reads `raw`; `loopback` says whether the service runs on loopback
    /// (`server.public_url`), which alone allows `http://127.0.0.1`, `[::1]` or `localhost`.
    ///
    /// The shape is narrower than what URL parsers take, so that a client can
    /// check it with one pattern and every URL of that shape means one
    /// thing: `http://` or `https://`; a host that is a lowercase name whose
    /// last label starts with a letter, a dotted-decimal IPv4 address, or
    /// `[::1]`; an optional port 1..65535; then an optional path (`/…`) and
    /// query (`?…`) of unreserved and sub-delimiter characters, `:`, `@` and `/`.
    pub fn parse(raw: &str, loopback: bool) -> Result<Self, UrlError> {
        if raw.len() > Self::MAX_LEN {
            return Err(UrlError::Invalid);
        }
        if raw.contains('#') {
            return Err(UrlError::Fragment);
        }
        let rest = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://"));
        let authority = rest.map(|r| r.split(['/', '?']).next().unwrap_or_default());
        if authority.is_some_and(|a| a.contains('@')) {
            return Err(UrlError::Credentials);
        }
        if !rest.is_some_and(well_formed) {
            return Err(UrlError::Invalid);
        }
        let url = Url::parse(raw).map_err(|_| UrlError::Invalid)?;
        let to_loopback = match url.host() {
            Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err(UrlError::Invalid),
        };
        match url.scheme() {
            "http" | "https" if to_loopback && loopback => {}
            _ if to_loopback => return Err(UrlError::PrivateAddress),
            "https" => {}
            _ => return Err(UrlError::Scheme),
        }
        let literal = match url.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if !to_loopback && literal.is_some_and(private) {
            return Err(UrlError::PrivateAddress);
        }
        Ok(Self(url))
    }

    /// A URL [`EndpointUrl::parse`] accepted earlier, read back from
    /// storage. The sender checks the addresses it connects to at every
    /// attempt, so a URL kept from a loopback deployment reaches nothing inside.
    pub fn stored(raw: &str) -> Result<Self, UrlError> {
        Url::parse(raw).map(Self).map_err(|_| UrlError::Invalid)
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Whether `rest` (a URL after its `scheme://`) is of the shape [`EndpointUrl::parse`] takes.
fn well_formed(rest: &str) -> bool {
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && host != "[" => (host, Some(port)),
        _ => (authority, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.starts_with('0') && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok()
    });
    let tail_ok = tail.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&b));
    port_ok && tail_ok && (host == "[::1]" || ipv4(host) || host_name(host))
}

/// A dotted-decimal IPv4 address: four numbers 0..255 without leading zeros.
fn ipv4(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u8>().is_ok()
        })
}

/// A lowercase host name: labels of 1..63 of `a-z`, `0-9` and inner `-`,
/// the last starting with a letter (so it never reads as a number).
fn host_name(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    labels.iter().all(|l| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    }) && labels.last().is_some_and(|l| l.as_bytes()[0].is_ascii_lowercase())
}

/// The shape [`EndpointUrl::parse`] takes, as a regular expression (for the API's schema).
pub const URL_PATTERN: &str = concat!(
    r"^https?://(?:\[::1\]|(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])",
    r"|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?)",
    r"(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?",
    r"(?:[/?][A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)?$"
);

/// Whether `ip` is of a network a webhook must not reach: private,
/// link-local (cloud metadata), loopback, unspecified, shared or
/// unique-local. The sender checks every address a host name resolves to
/// with it, so a public name pointing inside is refused at send time.
pub fn private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| private(IpAddr::V4(v4)))
        }
    }
}

/// A registered endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Its id.
    pub id: EndpointId,
    /// Whose events it receives.
    pub scope: Scope,
    /// Where they go.
    pub url: EndpointUrl,
    /// The types it receives; every type when empty.
    pub event_types: Vec<String>,
    /// Whether it receives anything now.
    pub enabled: bool,
    /// What signs its deliveries.
    pub secrets: Secrets,
    /// Why it is failing, since a delivery was given up; cleared by its next
    /// delivered event or when an admin enables it again.
    pub failing: Option<Failing>,
    /// Who it acts for: whoever registered it, or the admin who enabled it
    /// last. It delivers only while they may manage its scope, so an admin
    /// whose membership ended or ran out takes their endpoints' feed with them.
    pub created_by: UserId,
    /// When.
    pub created_at: OffsetDateTime,
}

impl Endpoint {
    /// Disabled at `now` because the person it acts for no longer manages
    /// its scope; an admin enabling it again takes it over.
    pub fn orphaned(&self, now: OffsetDateTime) -> Self {
        let reason = format!(
            "disabled: user {} who registered or last enabled it no longer manages these webhooks; \
             an admin who enables it again takes it over",
            self.created_by
        );
        Self { enabled: false, failing: Some(Failing { reason, since: now }), ..self.clone() }
    }

    /// Whether `event` goes to this endpoint: it is enabled, the event
    /// happened since it was registered (the past is not sent), is of a type
    /// it asked for, and, for an organization's endpoint, happened in that
    /// organization.
    pub fn wants(&self, event: &Event) -> bool {
        let in_scope = match self.scope {
            Scope::Platform => true,
            Scope::Organization(org) => event.organization_id == Some(org),
        };
        self.enabled
            && in_scope
            && event.occurred_at >= self.created_at
            && (self.event_types.is_empty() || self.event_types.contains(&event.kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use shared_kernel::Subject;
    use time::macros::datetime;

    #[test]
    fn deliveries_go_over_https_to_public_addresses_and_to_loopback_only_in_development() {
        let ok = |raw: &str, loopback| EndpointUrl::parse(raw, loopback).map(|u| u.as_str().to_owned());
        assert_eq!(
            ok("https://crm.example.com/hooks/usher?x=1", false),
            Ok("https://crm.example.com/hooks/usher?x=1".into())
        );
        assert_eq!(ok("http://crm.example.com/hooks", false), Err(UrlError::Scheme));
        assert_eq!(ok("ftp://crm.example.com/hooks", false), Err(UrlError::Invalid));
        assert_eq!(ok("https://user:pw@crm.example.com/", false), Err(UrlError::Credentials));
        assert_eq!(ok("https://crm.example.com/#top", false), Err(UrlError::Fragment));
        assert_eq!(ok("not a url", false), Err(UrlError::Invalid));
        assert_eq!(ok(&format!("https://crm.example.com/{}", "a".repeat(2048)), false), Err(UrlError::Invalid));
        for inside in [
            "https://10.0.0.8/",
            "https://192.168.1.1/",
            "https://172.16.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://127.0.0.1/",
            "http://localhost:9000/",
        ] {
            assert_eq!(ok(inside, false), Err(UrlError::PrivateAddress), "{inside}");
        }
        assert!(ok("https://93.184.215.14/", false).is_ok());
        // Shapes URL parsers read in surprising ways are refused before they are parsed.
        for odd in [
            "https://[fd00::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://0x7f.1/",
            "https://017.0.0.1/",
            "https://1.2.3/",
            "https://CRM.example.com/",
            "https://crm.example.com./",
            "https://crm.example.com:0/",
            "https://crm.example.com:65536/",
            "https://crm.example.com/a%2e%2e/",
            "https://crm.example.com/a b",
            "https:crm.example.com",
        ] {
            assert_eq!(ok(odd, false), Err(UrlError::Invalid), "{odd}");
        }
        assert!(ok("https://a-1.example.com:65535/x/y?q=1&r=(2)", false).is_ok());
        // While the service runs on loopback, loopback receivers are allowed, over http too.
        for local in
            ["http://127.0.0.1:9000/hooks", "http://localhost:9000/", "http://[::1]:9000/", "https://127.0.0.1/"]
        {
            assert!(ok(local, true).is_ok(), "{local}");
        }
        assert_eq!(ok("http://10.0.0.8/", true), Err(UrlError::Scheme));
    }

    #[test]
    fn an_endpoint_wants_the_events_of_its_scope_and_types_while_enabled() {
        let org = Uuid::now_v7();
        let at = datetime!(2026-12-04 12:00 UTC);
        let event = |kind: &str, organization| {
            Event::new(kind, at, None, organization, Subject::new("x", 1), serde_json::json!({}))
        };
        let mut endpoint = Endpoint {
            id: EndpointId::new(),
            scope: Scope::Organization(org),
            url: EndpointUrl::parse("https://crm.example.com/", false).unwrap(),
            event_types: vec![],
            enabled: true,
            secrets: Secrets::new(Secret::from_bytes(&[1; 32]).unwrap()),
            failing: None,
            created_by: UserId::new(1),
            created_at: at,
        };
        assert!(endpoint.wants(&event("membership.created", Some(org))));
        assert!(!endpoint.wants(&event("membership.created", Some(Uuid::now_v7()))), "another organization's");
        assert!(!endpoint.wants(&event("user.erased", None)), "no organization's");
        endpoint.event_types = vec!["invitation.accepted".into()];
        assert!(!endpoint.wants(&event("membership.created", Some(org))));
        assert!(endpoint.wants(&event("invitation.accepted", Some(org))));
        endpoint.scope = Scope::Platform;
        assert!(endpoint.wants(&event("invitation.accepted", Some(Uuid::now_v7()))));
        endpoint.enabled = false;
        assert!(!endpoint.wants(&event("invitation.accepted", Some(org))));
        endpoint.enabled = true;
        endpoint.created_at = at + time::Duration::seconds(1);
        assert!(!endpoint.wants(&event("invitation.accepted", Some(org))), "from its registration on");
    }
}
