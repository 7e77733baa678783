//! Where a request comes from: the client's address, read through the
//! proxies the operator trusts (`server.trusted_proxies`).

use actix_web::HttpRequest;
use actix_web::http::header;
use ipnet::IpNet;
use std::net::IpAddr;

/// The proxies whose `Forwarded` / `X-Forwarded-For` headers are believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses CIDRs (`10.0.0.0/8`) and single addresses (`127.0.0.1`).
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is neither a CIDR (10.0.0.0/8) nor an address"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address. The TCP peer, unless it is a trusted proxy:
    /// then the rightmost address of the forwarding chain (`Forwarded`, else
    /// `X-Forwarded-For`) that is not a trusted proxy, since every address
    /// left of it was written by someone the operator does not trust. A
    /// malformed entry stops the walk at the last trusted hop.
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip().to_canonical();
        if !self.trusts(peer) {
            return Some(peer);
        }
        let chain = forwarding_chain(req);
        let mut client = peer;
        for hop in chain.iter().rev() {
            let Some(ip) = hop else { break };
            client = *ip;
            if !self.trusts(*ip) {
                break;
            }
        }
        Some(client)
    }
}

/// The addresses the forwarding headers list, oldest first; `None` for an
/// entry that is not an address (`unknown`, an obfuscated name, garbage).
fn forwarding_chain(req: &HttpRequest) -> Vec<Option<IpAddr>> {
    let values = |name| req.headers().get_all(name).filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    let forwarded = values(header::FORWARDED);
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    key.trim().eq_ignore_ascii_case("for").then(|| node(value))?
                })
            })
            .collect();
    }
    values(header::X_FORWARDED_FOR).iter().flat_map(|v| v.split(',')).map(node).collect()
}

/// One node: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `"[2001:db8::1]:4711"`.
fn node(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim().trim_matches('"');
    if let Some(rest) = raw.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    raw.parse().ok().or_else(|| raw.rsplit_once(':').and_then(|(host, _port)| host.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn proxies(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&entries.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    fn from(peer: &str, headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr(peer.parse().unwrap());
        for (name, value) in headers {
            req = req.append_header((*name, *value));
        }
        req.to_http_request()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say() {
        let req = from("198.51.100.7:5000", &[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(TrustedProxies::default().client_ip(&req), Some("198.51.100.7".parse().unwrap()));
        assert_eq!(proxies(&["10.0.0.0/8"]).client_ip(&req), Some("198.51.100.7".parse().unwrap()));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_address_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "127.0.0.1"]);
        // A client-written (spoofed) first entry is ignored.
        let req = from("127.0.0.1:5000", &[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.1.2.3")]);
        assert_eq!(trusted.client_ip(&req), Some("203.0.113.9".parse().unwrap()));
        let req = from("127.0.0.1:5000", &[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "203.0.113.9:4711")]);
        assert_eq!(trusted.client_ip(&req), Some("203.0.113.9".parse().unwrap()));
        let req = from(
            "10.0.0.2:5000",
            &[("forwarded", r#"for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711";by=10.0.0.2"#)],
        );
        assert_eq!(trusted.client_ip(&req), Some("2001:db8:cafe::17".parse().unwrap()));
        // Garbage stops the walk at the last trusted hop; no header leaves the peer.
        let req = from("127.0.0.1:5000", &[("x-forwarded-for", "203.0.113.9, not-an-ip, 10.9.9.9")]);
        assert_eq!(trusted.client_ip(&req), Some("10.9.9.9".parse().unwrap()));
        let req = from("127.0.0.1:5000", &[]);
        assert_eq!(trusted.client_ip(&req), Some("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn proxies_are_cidrs_or_addresses() {
        assert!(TrustedProxies::parse(&["10.0.0.0/8".into(), "::1".into(), " 192.168.1.1 ".into()]).is_ok());
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.internal".into()]).is_err());
    }
}
