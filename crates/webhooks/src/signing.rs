//! The Standard Webhooks signature: HMAC-SHA256 over
//! `<webhook-id>.<webhook-timestamp>.<body>` with the secret's bytes,
//! base64, as `v1,<signature>`; one per signing secret, separated by
//! spaces, so a receiver holding either secret of a rotation accepts it.

use crate::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// The three headers of a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookHeaders {
    /// `webhook-id`: the event's id, the same on every retry, so a receiver deduplicates by it.
    pub id: String,
    /// `webhook-timestamp`: when this attempt was signed, in Unix seconds.
    pub timestamp: String,
    /// `webhook-signature`: `v1,<base64>` per secret, space-separated.
    pub signature: String,
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with `secret`.
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256>>::new_from_slice(secret.key()).unwrap_or_else(|_| unreachable!("HMAC keys any length"));
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The headers of a delivery of `body` as message `id`, signed at
/// `timestamp` (Unix seconds) with each of `secrets`, in order.
pub fn headers(id: &str, timestamp: i64, body: &[u8], secrets: &[&Secret]) -> WebhookHeaders {
    let signature = secrets.iter().map(|s| sign(s, id, timestamp, body)).collect::<Vec<_>>().join(" ");
    WebhookHeaders { id: id.to_owned(), timestamp: timestamp.to_string(), signature }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries, checked
    /// against the `standardwebhooks` package from PyPI.
    #[test]
    fn the_signature_matches_the_standard_webhooks_reference() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let signed = sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // Anything else signed differs: the id, the time, one byte of the body.
        assert_ne!(sign(&secret, "msg_other", 1_614_265_330, body), signed);
        assert_ne!(sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_331, body), signed);
        assert_ne!(sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232315}"#), signed);
    }

    #[test]
    fn during_a_rotation_each_secret_signs_once_newest_first() {
        let new = Secret::from_bytes(&[9; 32]).unwrap();
        let old = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let h = headers("msg_1", 1_700_000_000, b"{}", &[&new, &old]);
        let parts: Vec<&str> = h.signature.split(' ').collect();
        assert_eq!(parts, [sign(&new, "msg_1", 1_700_000_000, b"{}"), sign(&old, "msg_1", 1_700_000_000, b"{}")]);
        assert_eq!((h.id.as_str(), h.timestamp.as_str()), ("msg_1", "1700000000"));
    }
}
